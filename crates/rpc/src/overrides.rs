//! State overrides: the optional last argument of `eth_call` and `eth_estimateGas`, as geth
//! takes it. `{address: {balance?, nonce?, code?, state? | stateDiff?}}`: `state` replaces the
//! account's whole storage, `stateDiff` changes the slots it names. The overrides live in an
//! in-memory layer over the block's state for the one call; nothing is written.

use crate::superchain::{invalid_params, server_error, to_u256, to_u64};
use alloy_primitives::{Address, Bytes, B256, U256};
use jsonrpsee::types::ErrorObjectOwned;
use revm::{
    database::CacheDB,
    database_interface::DatabaseRef,
    state::{AccountInfo, Bytecode},
};
use serde_json::Value;

/// The most accounts one call may override.
pub const MAX_OVERRIDDEN_ACCOUNTS: usize = 256;

/// The most storage slots one call may override, over every account.
pub const MAX_OVERRIDDEN_SLOTS: usize = 4_096;

/// `state` with the overrides of `value` (`null` or absent: none) applied.
pub(crate) fn apply<DB: DatabaseRef>(
    state: DB,
    value: Option<&Value>,
) -> Result<CacheDB<DB>, ErrorObjectOwned>
where
    DB::Error: std::fmt::Display,
{
    let mut db = CacheDB::new(state);
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(db) };
    let Value::Object(accounts) = value else {
        return Err(invalid_params("the state override must be an object keyed by address"));
    };
    if accounts.len() > MAX_OVERRIDDEN_ACCOUNTS {
        return Err(invalid_params(format!(
            "at most {MAX_OVERRIDDEN_ACCOUNTS} accounts may be overridden"
        )));
    }
    let mut slots_total = 0;
    for (address, fields) in accounts {
        let address: Address = address
            .parse()
            .map_err(|_| invalid_params(format!("`{address}` is not a 20-byte 0x address")))?;
        let Value::Object(fields) = fields else {
            return Err(invalid_params(format!("the override of {address} must be an object")));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["balance", "nonce", "code", "state", "stateDiff"].contains(&k.as_str()))
        {
            return Err(invalid_params(format!("unknown override field `{unknown}`")));
        }
        if fields.contains_key("state") && fields.contains_key("stateDiff") {
            return Err(invalid_params(format!(
                "the override of {address} has both `state` and `stateDiff`"
            )));
        }
        let mut info: AccountInfo =
            db.basic_ref(address).map_err(server_error)?.unwrap_or_default();
        if let Some(balance) = fields.get("balance") {
            info.balance = to_u256("balance", balance)?;
        }
        if let Some(nonce) = fields.get("nonce") {
            info.nonce = to_u64("nonce", nonce)?;
        }
        if let Some(code) = fields.get("code") {
            let code: Bytes = serde_json::from_value(code.clone())
                .map_err(|_| invalid_params("`code` must be 0x hex bytes"))?;
            info = info.with_code(Bytecode::new_raw(code));
        } else if info.code.is_none() && !info.is_empty_code_hash() {
            // keep the account's code: the layer serves the info as given
            info.code = Some(db.code_by_hash_ref(info.code_hash).map_err(server_error)?);
        }
        db.insert_account_info(address, info);
        for (key, replace) in [("state", true), ("stateDiff", false)] {
            let Some(slots) = fields.get(key) else { continue };
            let Value::Object(slots) = slots else {
                return Err(invalid_params(format!("`{key}` must be an object of slots")));
            };
            slots_total += slots.len();
            if slots_total > MAX_OVERRIDDEN_SLOTS {
                return Err(invalid_params(format!(
                    "at most {MAX_OVERRIDDEN_SLOTS} storage slots may be overridden"
                )));
            }
            let mut values = Vec::with_capacity(slots.len());
            for (slot, value) in slots {
                let slot: B256 = slot
                    .parse()
                    .map_err(|_| invalid_params(format!("slot `{slot}` is not a 32-byte hash")))?;
                let value: B256 = serde_json::from_value(value.clone()).map_err(|_| {
                    invalid_params(format!("the value of slot {slot} is not 32 bytes"))
                })?;
                values.push((U256::from_be_bytes(slot.0), U256::from_be_bytes(value.0)));
            }
            if replace {
                db.replace_account_storage(address, values.into_iter().collect())
                    .map_err(server_error)?;
            } else {
                for (slot, value) in values {
                    db.insert_account_storage(address, slot, value).map_err(server_error)?;
                }
            }
        }
    }
    Ok(db)
}
