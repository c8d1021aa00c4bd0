// SPDX-License-Identifier: MIT
pragma solidity 0.8.29;

// Brings the Ethereum Attestation Service contracts into the build, only for `npm run gas`, which
// records a batch as an EAS attestation beside ours. EAS pins solc 0.8.29 (see hardhat.config.ts).
import {EAS} from "@ethereum-attestation-service/eas-contracts/contracts/EAS.sol";
import {SchemaRegistry} from "@ethereum-attestation-service/eas-contracts/contracts/SchemaRegistry.sol";
// Hardhat writes an artifact for every contract of every compiled file, so importing is enough.
