//! Snapshots of a Journal: every actor's state, and the counts that say where in the inputs
//! the run stands, encoded so that restoring them into actors built from the same
//! configuration continues the run exactly as if it had never stopped (the random-cut tests in
//! `run_tests.rs` prove it). The encoding is MessagePack through serde: self-describing, so
//! configurations and decimals deserialize as they were written, and exact for `f64`
//! indicator state. A snapshot is only ever taken between cascades.

use charon_events::ActorId;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::JournalStats;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("actor {actor}: its state cannot be encoded: {reason}")]
    Encode { actor: ActorId, reason: String },
    #[error("actor {actor}: its snapshot cannot be decoded: {reason}")]
    Decode { actor: ActorId, reason: String },
    #[error("the snapshot is unreadable: {0}")]
    Unreadable(String),
    #[error(
        "the snapshot holds actors {found:?}, the run has {expected:?}: a different configuration"
    )]
    Actors {
        expected: Vec<ActorId>,
        found: Vec<ActorId>,
    },
}

/// What a snapshot holds: the counts of the run so far and each actor's state, in actor order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalSnapshot {
    pub inputs: u64,
    pub derived: u64,
    pub actors: Vec<(ActorId, Vec<u8>)>,
}

impl JournalSnapshot {
    pub fn stats(&self) -> JournalStats {
        JournalStats {
            inputs: self.inputs,
            derived: self.derived,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        rmp_serde::to_vec(self).expect("ids, counts and bytes always encode")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, SnapshotError> {
        rmp_serde::from_slice(bytes).map_err(|e| SnapshotError::Unreadable(e.to_string()))
    }
}

/// An actor's whole state as snapshot bytes (field names included, so a state stays readable
/// when fields are skipped).
pub fn encode_state<T: Serialize>(actor: ActorId, state: &T) -> Result<Vec<u8>, SnapshotError> {
    rmp_serde::to_vec_named(state).map_err(|e| SnapshotError::Encode {
        actor,
        reason: e.to_string(),
    })
}

/// An actor's state back from [`encode_state`]'s bytes.
pub fn decode_state<T: DeserializeOwned>(actor: ActorId, bytes: &[u8]) -> Result<T, SnapshotError> {
    rmp_serde::from_slice(bytes).map_err(|e| SnapshotError::Decode {
        actor,
        reason: e.to_string(),
    })
}

/// Implements [`Actor::snapshot`](super::Actor::snapshot) and
/// [`Actor::restore`](super::Actor::restore) for an actor whose whole struct is its state
/// (serde-derived): restore replaces it, configuration included, which is the run's own.
#[macro_export]
macro_rules! snapshot_whole_state {
    () => {
        fn snapshot(&self) -> Result<Vec<u8>, $crate::journal::SnapshotError> {
            $crate::journal::encode_state($crate::journal::Actor::id(self), self)
        }

        fn restore(&mut self, state: &[u8]) -> Result<(), $crate::journal::SnapshotError> {
            *self = $crate::journal::decode_state($crate::journal::Actor::id(self), state)?;
            Ok(())
        }
    };
}
