//! Payloads as older format versions wrote them, read back into today's types. Only what
//! changed is here: every other payload reads the same in every version.
//!
//! - **Version 1** `RunManifest` had no `data_path` (a backtest did not record where its data
//!   log was); it reads back as `None`.

use bincode::Decode;

use super::wire::wire_config;
use crate::event::Event;
use crate::payload::manifest::{DataRange, ExecutionMode, RunManifest};

/// The index bincode writes for `Event::RunManifest`.
pub(crate) const RUN_MANIFEST_TAG: u64 = crate::event::EventKind::RunManifest as u64;

/// `RunManifest` as format version 1 wrote it.
#[derive(Decode)]
struct RunManifestV1 {
    mode: ExecutionMode,
    binary_version: String,
    config_hash: String,
    config_toml: String,
    data: Option<DataRange>,
    seed: u64,
}

impl From<RunManifestV1> for RunManifest {
    fn from(v1: RunManifestV1) -> Self {
        RunManifest {
            mode: v1.mode,
            binary_version: v1.binary_version,
            config_hash: v1.config_hash,
            config_toml: v1.config_toml,
            data: v1.data,
            seed: v1.seed,
            data_path: None,
        }
    }
}

/// Decodes the payload after its tag `tag` from `bytes` as format `version` wrote it, when
/// that differs from today's layout: `Some((payload, bytes used))`, or `None` when the payload
/// reads as today's.
pub(crate) fn decode_payload(
    version: u8,
    tag: u64,
    bytes: &[u8],
) -> Option<Result<(Event, usize), bincode::error::DecodeError>> {
    if version == 1 && tag == RUN_MANIFEST_TAG {
        return Some(
            bincode::decode_from_slice::<RunManifestV1, _>(bytes, wire_config())
                .map(|(manifest, used)| (Event::RunManifest(manifest.into()), used)),
        );
    }
    None
}
