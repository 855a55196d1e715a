//! The bridge predeploy's interface, exactly as `contracts/src/SuperchainBridge.sol` declares it
//! (DESIGN.md 5.1). The verifier depends only on the two events.

alloy_sol_types::sol! {
    /// The bridge predeploy.
    #[derive(Debug, PartialEq, Eq)]
    interface ISuperchainBridge {
        /// A successful burn on the source chain.
        event Burn(uint256 indexed destination, uint256 indexed nonce, address indexed token, address from, address to, uint256 amount);
        /// The mint the shared sequencer relayed on the destination chain.
        event Mint(uint256 indexed source, uint256 indexed nonce, address indexed token, address from, address to, uint256 amount);
        /// Burns `amount` of `token` (address(0): native, sent as value) for `to` on `destination`.
        function burn(uint256 destination, address token, address to, uint256 amount) external payable returns (uint256 nonce);
        /// Pays out burn `nonce` of chain `source`; only the sequencer's system address may call it.
        function relay(uint256 source, uint256 nonce, address token, address from, address to, uint256 amount) external;
        /// The next burn nonce towards `destination`.
        function nextNonce(uint256 destination) external view returns (uint256);
        /// Whether burn `nonce` of `source` was relayed.
        function relayed(uint256 source, uint256 nonce) external view returns (bool);
    }
}
