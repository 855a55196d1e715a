//! Chain-scoped access to the shared tables: state reads for revm, state and block writes with
//! changesets, incremental state roots, and unwinding.

use crate::{
    codec::{Key, NibblePath},
    models::{Account, AccountBefore, ChainHead, ChainId, StorageBefore, TrieNode, TxLocation},
    overlay::{TableRead, TableWrite},
    tables::*,
    trie::{key_nibbles, proof, trie_root, update_trie, NodeStore, TrieChange},
    DatabaseError, DbResult,
};
use alloy_consensus::Header;
use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_rlp::Encodable;
use alloy_trie::TrieAccount;
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use revm::{bytecode::Bytecode, database_interface::DatabaseRef, state::AccountInfo};
use std::collections::{BTreeMap, BTreeSet};

/// The state a block (or a genesis) changes, as new values.
#[derive(Debug, Clone, Default)]
pub struct StateChanges {
    /// New accounts; `None` deletes the account.
    pub accounts: BTreeMap<Address, Option<Account>>,
    /// New storage values by account; zero deletes the slot.
    pub storage: BTreeMap<Address, BTreeMap<B256, U256>>,
    /// Accounts whose whole storage was wiped before `storage` applies. An account set to `None`
    /// in `accounts` loses its storage too, and its entries in `storage` are ignored.
    pub wiped: BTreeSet<Address>,
    /// New contract code by hash.
    pub contracts: Vec<(B256, Vec<u8>)>,
}

/// A block as it is stored.
#[derive(Debug, Clone)]
pub struct StoredBlock {
    /// The sealed header's hash.
    pub hash: B256,
    /// The header.
    pub header: Header,
    /// The transactions, in order.
    pub transactions: Vec<OpTxEnvelope>,
    /// Their receipts.
    pub receipts: Vec<OpReceiptEnvelope>,
}

fn key_bytes<K: Key>(key: &K) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    key.encode_key(&mut out);
    out
}

/// One chain's view of a transaction over the shared tables: a [`crate::DbTx`], or an
/// [`crate::Overlay`] of writes over a read snapshot.
#[derive(Debug)]
pub struct ChainProvider<'a, T> {
    tx: &'a T,
    chain: ChainId,
}

impl<T> Clone for ChainProvider<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ChainProvider<'_, T> {}

impl<'a, T: TableRead> ChainProvider<'a, T> {
    /// A view of `chain` in `tx`.
    pub const fn new(tx: &'a T, chain: ChainId) -> Self {
        Self { tx, chain }
    }

    /// The chain id.
    pub const fn chain(&self) -> ChainId {
        self.chain
    }

    /// The chain's executed head, if it has been initialised.
    pub fn head(&self) -> DbResult<Option<ChainHead>> {
        self.tx.get::<ChainHeads>(&self.chain)
    }

    /// The hash of the genesis this chain was initialised with.
    pub fn genesis_hash(&self) -> DbResult<Option<B256>> {
        self.tx.get::<ChainGenesis>(&self.chain)
    }

    /// The header of canonical block `number`.
    pub fn header(&self, number: u64) -> DbResult<Option<Header>> {
        self.tx.get::<Headers>(&(self.chain, number))
    }

    /// The storage root of the L2ToL1MessagePasser after block `number`: the recorded one, or,
    /// from Isthmus on, the header's withdrawals root, which holds the same value. (From Canyon
    /// to Isthmus the header carries the empty root there instead; an Isthmus header is the one
    /// with a requests hash.)
    pub fn message_passer_root(&self, number: u64) -> DbResult<Option<B256>> {
        if let Some(root) = self.tx.get::<MessagePasserRoots>(&(self.chain, number))? {
            return Ok(Some(root));
        }
        let header = self.header(number)?;
        Ok(header.filter(|h| h.requests_hash.is_some()).and_then(|h| h.withdrawals_root))
    }

    /// The hash of canonical block `number`.
    pub fn block_hash(&self, number: u64) -> DbResult<Option<B256>> {
        self.tx.get::<CanonicalHashes>(&(self.chain, number))
    }

    /// The number of the block with `hash`.
    pub fn block_number(&self, hash: B256) -> DbResult<Option<u64>> {
        self.tx.get::<HeaderNumbers>(&(self.chain, hash))
    }

    /// The transactions of block `number`.
    pub fn transactions(&self, number: u64) -> DbResult<Vec<OpTxEnvelope>> {
        let prefix = key_bytes(&(self.chain, number));
        Ok(self.tx.walk_prefix::<Transactions>(&prefix)?.into_iter().map(|(_, tx)| tx).collect())
    }

    /// The receipts of block `number`.
    pub fn receipts(&self, number: u64) -> DbResult<Vec<OpReceiptEnvelope>> {
        let prefix = key_bytes(&(self.chain, number));
        Ok(self.tx.walk_prefix::<Receipts>(&prefix)?.into_iter().map(|(_, r)| r).collect())
    }

    /// Where the transaction with `hash` is.
    pub fn transaction_location(&self, hash: B256) -> DbResult<Option<TxLocation>> {
        self.tx.get::<TransactionHashes>(&(self.chain, hash))
    }

    /// The account at `address`.
    pub fn account(&self, address: Address) -> DbResult<Option<Account>> {
        self.tx.get::<PlainAccounts>(&(self.chain, address))
    }

    /// The value of storage `slot` of `address` (zero when unset).
    pub fn storage(&self, address: Address, slot: B256) -> DbResult<U256> {
        Ok(self.tx.get::<PlainStorage>(&(self.chain, address, slot))?.unwrap_or_default())
    }

    /// Every account of the chain's plain state, in address order.
    pub fn all_accounts(&self) -> DbResult<Vec<(Address, Account)>> {
        let prefix = key_bytes(&self.chain);
        let rows = self.tx.walk_prefix::<PlainAccounts>(&prefix)?;
        Ok(rows.into_iter().map(|((_, address), account)| (address, account)).collect())
    }

    /// Every non-zero storage slot of `address`.
    pub fn all_storage(&self, address: Address) -> DbResult<Vec<(B256, U256)>> {
        let prefix = key_bytes(&(self.chain, address));
        let rows = self.tx.walk_prefix::<PlainStorage>(&prefix)?;
        Ok(rows.into_iter().map(|((_, _, slot), value)| (slot, value)).collect())
    }

    /// The chain's state root, from the stored account trie.
    pub fn state_root(&self) -> DbResult<B256> {
        trie_root(&mut TrieView { tx: self.tx, chain: self.chain, owner: None })
    }

    /// The storage root of `address`, from its stored storage trie.
    pub fn storage_root(&self, address: Address) -> DbResult<B256> {
        trie_root(&mut TrieView { tx: self.tx, chain: self.chain, owner: Some(keccak256(address)) })
    }

    /// The stored account-trie nodes on the path to `address`, root first (a Merkle proof of the
    /// account or of its absence).
    pub fn account_proof(&self, address: Address) -> DbResult<Vec<TrieNode>> {
        proof(&mut TrieView { tx: self.tx, chain: self.chain, owner: None }, &keccak256(address))
    }

    /// The stored storage-trie nodes of `address` on the path to `slot`, root first.
    pub fn storage_proof(&self, address: Address, slot: B256) -> DbResult<Vec<TrieNode>> {
        let owner = Some(keccak256(address));
        proof(&mut TrieView { tx: self.tx, chain: self.chain, owner }, &keccak256(slot))
    }

    /// The state as revm reads it.
    pub const fn state(&self) -> StateProviderDb<'a, T> {
        StateProviderDb { provider: *self, at: None }
    }

    /// The state after block `number`, as revm reads it: the plain state with the changesets
    /// of every later block undone on read.
    pub const fn state_at(&self, number: u64) -> StateProviderDb<'a, T> {
        StateProviderDb { provider: *self, at: Some(number) }
    }

    /// `address` after block `number`: the value the first later block changed it from, or the
    /// current one. One seek in the history index and one among that block's changes, however
    /// far back `number` is.
    pub fn account_at(&self, address: Address, number: u64) -> DbResult<Option<Account>> {
        let from = (self.chain, address, number.saturating_add(1));
        let prefix = key_bytes(&(self.chain, address));
        let Some(((_, _, changed), ())) = self.tx.seek_prefix::<AccountHistory>(&prefix, &from)?
        else {
            return self.account(address);
        };
        let before =
            self.tx.get_dup::<AccountChangeSets>(&(self.chain, changed), address.as_slice())?;
        match before {
            Some(before) => Ok(before.info),
            None => Err(self.missing_change(changed, &format!("account {address}"))),
        }
    }

    /// Slot `slot` of `address` after block `number` (see [`Self::account_at`]).
    pub fn storage_at(&self, address: Address, slot: B256, number: u64) -> DbResult<U256> {
        let from = (self.chain, address, slot, number.saturating_add(1));
        let prefix = key_bytes(&(self.chain, address, slot));
        let Some(((_, _, _, changed), ())) =
            self.tx.seek_prefix::<StorageHistory>(&prefix, &from)?
        else {
            return self.storage(address, slot);
        };
        let subkey = [address.as_slice(), slot.as_slice()].concat();
        match self.tx.get_dup::<StorageChangeSets>(&(self.chain, changed), &subkey)? {
            Some(before) => Ok(before.value),
            None => Err(self.missing_change(changed, &format!("slot {slot} of {address}"))),
        }
    }

    fn missing_change(&self, number: u64, what: &str) -> DatabaseError {
        DatabaseError::ChainState {
            chain: self.chain,
            what: format!(
                "the history index names block {number} for {what}, whose changeset lacks it"
            ),
        }
    }

    /// [`Self::account_at`] the slow way, by walking every later block's changeset: the
    /// reference the index is checked against in tests and measured against in benchmarks.
    pub fn account_at_by_changesets(
        &self,
        address: Address,
        number: u64,
    ) -> DbResult<Option<Account>> {
        let before = self.first_change_after::<AccountChangeSets, _>(number, |before| {
            (before.address == address).then_some(before.info)
        })?;
        before.map_or_else(|| self.account(address), Ok)
    }

    /// [`Self::storage_at`] by walking every later changeset (see
    /// [`Self::account_at_by_changesets`]).
    pub fn storage_at_by_changesets(
        &self,
        address: Address,
        slot: B256,
        number: u64,
    ) -> DbResult<U256> {
        let before = self.first_change_after::<StorageChangeSets, _>(number, |before| {
            (before.address == address && before.slot == slot).then_some(before.value)
        })?;
        before.map_or_else(|| self.storage(address, slot), Ok)
    }

    /// The oldest block whose changesets and receipts are kept (0 when nothing was pruned).
    pub fn history_start(&self) -> DbResult<u64> {
        Ok(self.tx.get::<HistoryStart>(&self.chain)?.unwrap_or(0))
    }

    /// The first changeset entry `pick` accepts in the blocks after `number`, oldest first:
    /// the value before the first later change.
    fn first_change_after<S, R>(
        &self,
        number: u64,
        pick: impl Fn(S::Value) -> Option<R>,
    ) -> DbResult<Option<R>>
    where
        S: Table<Key = (ChainId, u64)>,
    {
        let head = self.head()?.map_or(0, |h| h.number);
        for block in number.saturating_add(1)..=head {
            let mut found = None;
            self.tx.for_each_prefix::<S>(&key_bytes(&(self.chain, block)), |_, before| {
                found = pick(before);
                Ok(found.is_none())
            })?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

/// The nodes of one trie of one chain, read or written through a transaction.
struct TrieView<'a, T> {
    tx: &'a T,
    chain: ChainId,
    /// `None` for the account trie, else the hashed address owning a storage trie.
    owner: Option<B256>,
}

impl<T: TableRead> TrieView<'_, T> {
    fn read(&self, path: &[u8]) -> DbResult<Option<TrieNode>> {
        let path = NibblePath(path.to_vec());
        match self.owner {
            None => self.tx.get::<AccountsTrie>(&(self.chain, path)),
            Some(owner) => self.tx.get::<StoragesTrie>(&(self.chain, owner, path)),
        }
    }
}

impl<T: TableRead> NodeStore for TrieView<'_, T> {
    fn node(&mut self, path: &[u8]) -> DbResult<Option<TrieNode>> {
        self.read(path)
    }
    fn put_node(&mut self, _: &[u8], _: &TrieNode) -> DbResult<()> {
        Err(DatabaseError::Inconsistent("trie write through a read-only view".into()))
    }
    fn delete_node(&mut self, _: &[u8]) -> DbResult<()> {
        Err(DatabaseError::Inconsistent("trie write through a read-only view".into()))
    }
}

/// A writable trie view.
struct TrieWriter<'a, T>(TrieView<'a, T>);

impl<T: TableWrite> NodeStore for TrieWriter<'_, T> {
    fn node(&mut self, path: &[u8]) -> DbResult<Option<TrieNode>> {
        self.0.read(path)
    }
    fn put_node(&mut self, path: &[u8], node: &TrieNode) -> DbResult<()> {
        let path = NibblePath(path.to_vec());
        match self.0.owner {
            None => self.0.tx.put::<AccountsTrie>(&(self.0.chain, path), node),
            Some(owner) => self.0.tx.put::<StoragesTrie>(&(self.0.chain, owner, path), node),
        }
    }
    fn delete_node(&mut self, path: &[u8]) -> DbResult<()> {
        let path = NibblePath(path.to_vec());
        match self.0.owner {
            None => self.0.tx.delete::<AccountsTrie>(&(self.0.chain, path)),
            Some(owner) => self.0.tx.delete::<StoragesTrie>(&(self.0.chain, owner, path)),
        }
        .map(drop)
    }
}

fn storage_leaf(value: U256) -> Option<Vec<u8>> {
    (!value.is_zero()).then(|| alloy_rlp::encode(value))
}

impl<T: TableWrite> ChainProvider<'_, T> {
    fn trie(&self, owner: Option<B256>) -> TrieWriter<'_, T> {
        TrieWriter(TrieView { tx: self.tx, chain: self.chain, owner })
    }

    /// Applies `changes` as block `number`'s state transition: writes the plain state, records the
    /// previous values in the changesets, updates the tries, and returns the new state root.
    pub fn write_state(&self, number: u64, changes: &StateChanges) -> DbResult<B256> {
        let chain = self.chain;
        for (hash, code) in &changes.contracts {
            self.tx.put::<Bytecodes>(hash, code)?;
        }
        let mut touched_storage: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
        // an account that no longer exists has no storage either
        let deleted: BTreeSet<Address> =
            changes.accounts.iter().filter(|(_, a)| a.is_none()).map(|(k, _)| *k).collect();
        let wiped: BTreeSet<Address> = changes.wiped.union(&deleted).copied().collect();
        for address in &wiped {
            let slots = touched_storage.entry(*address).or_default();
            for (slot, value) in self.all_storage(*address)? {
                let before = StorageBefore { address: *address, slot, value };
                self.record_storage_change(number, &before)?;
                slots.insert(slot);
            }
            self.tx.delete_prefix::<PlainStorage>(&key_bytes(&(chain, *address)))?;
            let owner = keccak256(address);
            self.tx.delete_prefix::<StoragesTrie>(&key_bytes(&(chain, owner)))?;
        }
        for (address, slots) in &changes.storage {
            if deleted.contains(address) {
                continue;
            }
            let recorded = touched_storage.entry(*address).or_default();
            for (slot, value) in slots {
                if !wiped.contains(address) {
                    let before = StorageBefore {
                        address: *address,
                        slot: *slot,
                        value: self.storage(*address, *slot)?,
                    };
                    if before.value == *value {
                        continue;
                    }
                    self.record_storage_change(number, &before)?;
                } else if !recorded.contains(slot) {
                    let before =
                        StorageBefore { address: *address, slot: *slot, value: U256::ZERO };
                    self.record_storage_change(number, &before)?;
                }
                recorded.insert(*slot);
                self.put_storage(*address, *slot, *value)?;
            }
        }
        let mut touched_accounts: BTreeSet<Address> = touched_storage.keys().copied().collect();
        for (address, account) in &changes.accounts {
            let before = self.account(*address)?;
            if before == *account {
                continue;
            }
            self.tx.put::<AccountChangeSets>(
                &(chain, number),
                &AccountBefore { address: *address, info: before },
            )?;
            self.tx.put::<AccountHistory>(&(chain, *address, number), &())?;
            self.put_account(*address, *account)?;
            touched_accounts.insert(*address);
        }
        self.update_tries(&touched_accounts, &touched_storage)
    }

    /// Records a slot's value before block `number` in its changeset and the history index.
    fn record_storage_change(&self, number: u64, before: &StorageBefore) -> DbResult<()> {
        self.tx.put::<StorageChangeSets>(&(self.chain, number), before)?;
        self.tx.put::<StorageHistory>(&(self.chain, before.address, before.slot, number), &())
    }

    fn put_storage(&self, address: Address, slot: B256, value: U256) -> DbResult<()> {
        let key = (self.chain, address, slot);
        if value.is_zero() {
            self.tx.delete::<PlainStorage>(&key).map(drop)
        } else {
            self.tx.put::<PlainStorage>(&key, &value)
        }
    }

    fn put_account(&self, address: Address, account: Option<Account>) -> DbResult<()> {
        match account {
            Some(account) => self.tx.put::<PlainAccounts>(&(self.chain, address), &account),
            None => self.tx.delete::<PlainAccounts>(&(self.chain, address)).map(drop),
        }
    }

    /// Brings the tries in line with the plain state for the touched keys; returns the root.
    fn update_tries(
        &self,
        accounts: &BTreeSet<Address>,
        storage: &BTreeMap<Address, BTreeSet<B256>>,
    ) -> DbResult<B256> {
        for (address, slots) in storage {
            let changes: Vec<TrieChange> = slots
                .iter()
                .map(|slot| {
                    Ok((
                        key_nibbles(&keccak256(slot)),
                        storage_leaf(self.storage(*address, *slot)?),
                    ))
                })
                .collect::<DbResult<_>>()?;
            update_trie(&mut self.trie(Some(keccak256(address))), changes)?;
        }
        let mut changes: Vec<TrieChange> = Vec::with_capacity(accounts.len());
        for address in accounts {
            let leaf = match self.account(*address)? {
                Some(account) => {
                    let trie_account = TrieAccount {
                        nonce: account.nonce,
                        balance: account.balance,
                        storage_root: self.storage_root(*address)?,
                        code_hash: account.code_hash,
                    };
                    let mut out = Vec::with_capacity(110);
                    trie_account.encode(&mut out);
                    Some(out)
                }
                None => None,
            };
            changes.push((key_nibbles(&keccak256(address)), leaf));
        }
        update_trie(&mut self.trie(None), changes)
    }

    /// The head, and the hash of block `target` at or below it, for going back to `target`
    /// (`verb` names the operation in errors).
    fn head_and_target(&self, target: u64, verb: &str) -> DbResult<(ChainHead, B256)> {
        let chain = self.chain;
        let head = self.head()?.ok_or_else(|| DatabaseError::ChainState {
            chain,
            what: format!("cannot {verb} a chain that was never initialised"),
        })?;
        if target > head.number {
            return Err(DatabaseError::ChainState {
                chain,
                what: format!("cannot {verb} to block {target}: the head is {}", head.number),
            });
        }
        let target_hash = self.block_hash(target)?.ok_or_else(|| DatabaseError::ChainState {
            chain,
            what: format!("block {target} is not stored"),
        })?;
        let start = self.history_start()?;
        if target.saturating_add(1) < start {
            return Err(DatabaseError::ChainState {
                chain,
                what: format!(
                    "cannot {verb} to block {target}: the changesets before block {start} were \
                     pruned"
                ),
            });
        }
        Ok((head, target_hash))
    }

    /// Brings the plain state, the tries and the head back to what they were after block
    /// `target`, reading the changesets but leaving them and the blocks in place: a view of the
    /// past, meant for an [`crate::Overlay`] over a read snapshot (which never reads back a
    /// dup-sort table it wrote). [`Self::unwind_to`] is the real unwind. Returns the state root
    /// after `target`.
    pub fn rewind_state_to(&self, target: u64) -> DbResult<B256> {
        let chain = self.chain;
        let (head, target_hash) = self.head_and_target(target, "rewind")?;
        // newest first, so that the oldest block's previous value is the one left standing
        let mut accounts: BTreeMap<Address, Option<Account>> = BTreeMap::new();
        let mut storage: BTreeMap<Address, BTreeMap<B256, U256>> = BTreeMap::new();
        for number in (target + 1..=head.number).rev() {
            let prefix = key_bytes(&(chain, number));
            self.tx.for_each_prefix::<StorageChangeSets>(&prefix, |_, before| {
                storage.entry(before.address).or_default().insert(before.slot, before.value);
                Ok(true)
            })?;
            self.tx.for_each_prefix::<AccountChangeSets>(&prefix, |_, before| {
                accounts.insert(before.address, before.info);
                Ok(true)
            })?;
        }
        for (address, slots) in &storage {
            for (slot, value) in slots {
                self.put_storage(*address, *slot, *value)?;
            }
        }
        for (address, account) in &accounts {
            self.put_account(*address, *account)?;
        }
        let touched: BTreeSet<Address> = accounts.keys().chain(storage.keys()).copied().collect();
        let slots = storage.into_iter().map(|(a, s)| (a, s.into_keys().collect())).collect();
        let root = self.update_tries(&touched, &slots)?;
        self.tx.put::<ChainHeads>(&chain, &ChainHead { number: target, hash: target_hash })?;
        Ok(root)
    }

    /// Stores block `block` as the chain's new canonical head.
    pub fn write_block(&self, block: &StoredBlock) -> DbResult<()> {
        let chain = self.chain;
        let number = block.header.number;
        self.tx.put::<Headers>(&(chain, number), &block.header)?;
        self.tx.put::<CanonicalHashes>(&(chain, number), &block.hash)?;
        self.tx.put::<HeaderNumbers>(&(chain, block.hash), &number)?;
        self.tx.put::<BlockBodies>(&(chain, number), &(block.transactions.len() as u64))?;
        for (index, tx) in block.transactions.iter().enumerate() {
            self.tx.put::<Transactions>(&(chain, number, index as u32), tx)?;
            let location = TxLocation { block: number, index: index as u32 };
            self.tx.put::<TransactionHashes>(&(chain, tx.tx_hash()), &location)?;
        }
        for (index, receipt) in block.receipts.iter().enumerate() {
            self.tx.put::<Receipts>(&(chain, number, index as u32), receipt)?;
        }
        self.tx.put::<ChainHeads>(&chain, &ChainHead { number, hash: block.hash })
    }

    /// Prunes the history below block `below`, at most `max_blocks` blocks of it in this call:
    /// their changesets with their history index entries, and their receipts. Blocks, headers
    /// and transactions stay. Returns the new [`Self::history_start`]; reads of state before it
    /// and of its receipts are refused from then on (and so is unwinding below it).
    pub fn prune_history(&self, below: u64, max_blocks: u64) -> DbResult<u64> {
        let chain = self.chain;
        let start = self.history_start()?;
        let end = below.min(start.saturating_add(max_blocks));
        if end <= start {
            return Ok(start);
        }
        for number in start..end {
            let prefix = key_bytes(&(chain, number));
            for (_, before) in self.tx.walk_prefix::<StorageChangeSets>(&prefix)? {
                self.tx.delete::<StorageHistory>(&(chain, before.address, before.slot, number))?;
            }
            for (_, before) in self.tx.walk_prefix::<AccountChangeSets>(&prefix)? {
                self.tx.delete::<AccountHistory>(&(chain, before.address, number))?;
            }
            self.tx.delete::<StorageChangeSets>(&(chain, number))?;
            self.tx.delete::<AccountChangeSets>(&(chain, number))?;
            self.tx.delete_prefix::<Receipts>(&prefix)?;
        }
        self.tx.put::<HistoryStart>(&chain, &end)?;
        Ok(end)
    }

    /// Records the L2ToL1MessagePasser's storage root after block `number`.
    pub fn put_message_passer_root(&self, number: u64, root: B256) -> DbResult<()> {
        self.tx.put::<MessagePasserRoots>(&(self.chain, number), &root)
    }

    /// Records the genesis hash the chain was initialised with.
    pub fn set_genesis_hash(&self, hash: B256) -> DbResult<()> {
        self.tx.put::<ChainGenesis>(&self.chain, &hash)
    }

    /// Unwinds the chain to block `target`: state, tries, blocks, receipts and head are restored
    /// to exactly what they were when `target` was the head. Returns the restored state root.
    pub fn unwind_to(&self, target: u64) -> DbResult<B256> {
        let chain = self.chain;
        let (head, target_hash) = self.head_and_target(target, "unwind")?;
        let mut accounts = BTreeSet::new();
        let mut storage: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
        for number in (target + 1..=head.number).rev() {
            let prefix = key_bytes(&(chain, number));
            for (_, before) in self.tx.walk_prefix::<StorageChangeSets>(&prefix)? {
                self.put_storage(before.address, before.slot, before.value)?;
                self.tx.delete::<StorageHistory>(&(chain, before.address, before.slot, number))?;
                storage.entry(before.address).or_default().insert(before.slot);
            }
            for (_, before) in self.tx.walk_prefix::<AccountChangeSets>(&prefix)? {
                self.put_account(before.address, before.info)?;
                self.tx.delete::<AccountHistory>(&(chain, before.address, number))?;
                accounts.insert(before.address);
            }
            self.tx.delete::<StorageChangeSets>(&(chain, number))?;
            self.tx.delete::<AccountChangeSets>(&(chain, number))?;
            if let Some(hash) = self.block_hash(number)? {
                self.tx.delete::<HeaderNumbers>(&(chain, hash))?;
            }
            self.tx.delete::<Headers>(&(chain, number))?;
            self.tx.delete::<CanonicalHashes>(&(chain, number))?;
            self.tx.delete::<BlockBodies>(&(chain, number))?;
            for tx in self.transactions(number)? {
                self.tx.delete::<TransactionHashes>(&(chain, tx.tx_hash()))?;
            }
            self.tx.delete_prefix::<Transactions>(&prefix)?;
            self.tx.delete_prefix::<Receipts>(&prefix)?;
            self.tx.delete::<MessagePasserRoots>(&(chain, number))?;
        }
        accounts.extend(storage.keys().copied());
        let root = self.update_tries(&accounts, &storage)?;
        self.tx.put::<ChainHeads>(&chain, &ChainHead { number: target, hash: target_hash })?;
        Ok(root)
    }
}

/// The plain state of one chain as a revm [`DatabaseRef`].
#[derive(Debug)]
pub struct StateProviderDb<'a, T> {
    provider: ChainProvider<'a, T>,
    /// `None`: the latest state; else the state after that block.
    at: Option<u64>,
}

impl<T> Clone for StateProviderDb<'_, T> {
    fn clone(&self) -> Self {
        Self { provider: self.provider, at: self.at }
    }
}

impl<T: TableRead> DatabaseRef for StateProviderDb<'_, T> {
    type Error = DatabaseError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        let account = match self.at {
            None => self.provider.account(address)?,
            Some(number) => self.provider.account_at(address, number)?,
        };
        Ok(account.map(Into::into))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        let code = self.provider.tx.get::<Bytecodes>(&code_hash)?.ok_or_else(|| {
            DatabaseError::Inconsistent(format!("bytecode {code_hash} is missing"))
        })?;
        Ok(Bytecode::new_raw(code.into()))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Self::Error> {
        match self.at {
            None => self.provider.storage(address, B256::from(index)),
            Some(number) => self.provider.storage_at(address, B256::from(index), number),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        Ok(self.provider.block_hash(number)?.unwrap_or_default())
    }
}
