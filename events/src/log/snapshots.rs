//! The log's snapshot tree: opaque state snapshots keyed by the seq they cover through (the
//! last event of a finished cascade), each framed with a format byte and a CRC32 so a damaged
//! one is named, never restored. Only the newest [`KEPT_SNAPSHOTS`] are kept: after a crash the
//! newest may describe events the recovered log no longer holds (sled recovers a prefix), and
//! the one before it is then the way back.

use crate::ids::Seq;

use super::{key_of, EventLog, LogError};

/// The sled tree snapshots live in, beside the events.
pub const SNAPSHOTS_TREE: &[u8] = b"charon.snapshots";
/// How many snapshots a log keeps.
pub const KEPT_SNAPSHOTS: usize = 2;
const SNAPSHOT_FORMAT: u8 = 1;

impl EventLog {
    fn snapshots(&self) -> Result<sled::Tree, LogError> {
        self.inner
            .db
            .open_tree(SNAPSHOTS_TREE)
            .map_err(|e| self.storage(e))
    }

    /// Stores `state` as the snapshot through `seq` and drops all but the newest
    /// [`KEPT_SNAPSHOTS`].
    pub fn put_snapshot(&self, seq: Seq, state: &[u8]) -> Result<(), LogError> {
        let tree = self.snapshots()?;
        let mut record = Vec::with_capacity(state.len() + 5);
        record.push(SNAPSHOT_FORMAT);
        record.extend_from_slice(&crc32fast::hash(state).to_le_bytes());
        record.extend_from_slice(state);
        tree.insert(key_of(seq), record)
            .map_err(|e| self.storage(e))?;
        let keys: Vec<_> = tree
            .iter()
            .keys()
            .collect::<Result<_, _>>()
            .map_err(|e| self.storage(e))?;
        for key in keys.iter().rev().skip(KEPT_SNAPSHOTS) {
            tree.remove(key).map_err(|e| self.storage(e))?;
        }
        Ok(())
    }

    /// The newest snapshot through `seq` or earlier, with the seq it covers through.
    pub fn snapshot_through(&self, seq: Seq) -> Result<Option<(Seq, Vec<u8>)>, LogError> {
        let tree = self.snapshots()?;
        let Some(found) = tree.range(..=key_of(seq)).next_back() else {
            return Ok(None);
        };
        let (key, record) = found.map_err(|e| self.storage(e))?;
        let path = self.path().to_path_buf();
        let at = super::seq_of_key(&path, &key)?;
        let corrupt = |reason: &str| LogError::CorruptSnapshot {
            path: path.clone(),
            seq: at,
            reason: reason.to_string(),
        };
        let (&format, rest) = record
            .split_first()
            .ok_or_else(|| corrupt("empty record"))?;
        if format != SNAPSHOT_FORMAT {
            return Err(corrupt(&format!("unknown snapshot format {format}")));
        }
        if rest.len() < 4 {
            return Err(corrupt("truncated record"));
        }
        let (crc, state) = rest.split_at(4);
        if crc32fast::hash(state).to_le_bytes() != crc {
            return Err(corrupt("CRC mismatch"));
        }
        Ok(Some((at, state.to_vec())))
    }

    /// The seqs the stored snapshots cover through, oldest first.
    pub fn snapshot_seqs(&self) -> Result<Vec<Seq>, LogError> {
        let path = self.path().to_path_buf();
        self.snapshots()?
            .iter()
            .keys()
            .map(|key| {
                let key = key.map_err(|e| self.storage(e))?;
                super::seq_of_key(&path, &key)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::{EventLog, LogError, LogKind};

    #[test]
    fn keeps_the_newest_and_finds_the_one_through_a_seq() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::create(dir.path().join("run"), LogKind::Run).unwrap();
        assert_eq!(log.snapshot_through(100).unwrap(), None);
        for seq in [10, 20, 30] {
            log.put_snapshot(seq, format!("state {seq}").as_bytes())
                .unwrap();
        }
        assert_eq!(log.snapshot_seqs().unwrap(), vec![20, 30]);
        assert_eq!(
            log.snapshot_through(29).unwrap(),
            Some((20, b"state 20".to_vec()))
        );
        assert_eq!(
            log.snapshot_through(30).unwrap(),
            Some((30, b"state 30".to_vec()))
        );
        assert_eq!(log.snapshot_through(19).unwrap(), None);
    }

    #[test]
    fn a_damaged_snapshot_is_named_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::create(dir.path().join("run"), LogKind::Run).unwrap();
        log.put_snapshot(7, b"state").unwrap();
        let tree = log.snapshots().unwrap();
        let mut record = tree.get(super::key_of(7)).unwrap().unwrap().to_vec();
        *record.last_mut().unwrap() ^= 1;
        tree.insert(super::key_of(7), record).unwrap();
        let error = log.snapshot_through(7).unwrap_err();
        assert!(
            matches!(error, LogError::CorruptSnapshot { seq: 7, .. }),
            "{error}"
        );
        assert!(
            error.to_string().contains("snapshot through seq 7"),
            "{error}"
        );
    }
}
