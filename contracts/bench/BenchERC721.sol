// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";

/// @notice The common way to put a product record on-chain (a token per batch with a metadata URI),
/// measured beside ours by `npm run gas`.
contract BenchERC721 is ERC721URIStorage {
    uint256 private _next;

    constructor() ERC721("Batch", "BATCH") {}

    function mint(address to, string calldata uri) external returns (uint256 tokenId) {
        tokenId = ++_next;
        _safeMint(to, tokenId);
        _setTokenURI(tokenId, uri);
    }
}
