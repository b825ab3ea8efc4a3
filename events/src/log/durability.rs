//! The durability barrier: `sync_through(seq)` returns only once every event up to `seq` is on
//! the disk, not merely in the page cache.
//!
//! sled 0.34's `flush()` writes its buffers and calls `sync_file_range`, which neither flushes
//! the drive's cache nor the file's metadata (sled issue #1452). So after sled's flush the
//! barrier calls `fdatasync` on sled's data file, and fsyncs any blob file sled wrote for an
//! oversized value (sled never syncs those itself). Concurrent callers share one sync: whoever
//! holds the lock syncs everything appended so far, and callers queued behind it find their
//! seq already durable (group commit).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::ids::Seq;

pub(crate) struct Durability {
    leader: Mutex<HashSet<OsString>>,
    durable: AtomicU64,
    syncs: AtomicU64,
    data_file: File,
    blob_dir: PathBuf,
}

impl Durability {
    pub(crate) fn open(log_dir: &Path, durable: Seq) -> std::io::Result<Self> {
        Ok(Self {
            leader: Mutex::new(HashSet::new()),
            durable: AtomicU64::new(durable),
            syncs: AtomicU64::new(0),
            data_file: File::open(log_dir.join("db"))?,
            blob_dir: log_dir.join("blobs"),
        })
    }

    pub(crate) fn durable_seq(&self) -> Seq {
        self.durable.load(Ordering::Acquire)
    }

    pub(crate) fn sync_count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Makes everything up to `seq` durable. `flush` publishes pending writes to sled, flushes
    /// sled, and returns the highest seq that the flush covered.
    pub(crate) fn sync_through<E>(
        &self,
        seq: Seq,
        flush: impl FnOnce() -> Result<Seq, E>,
        io_error: impl Fn(std::io::Error) -> E,
    ) -> Result<(), E> {
        if seq <= self.durable_seq() {
            return Ok(());
        }
        let mut synced_blobs = self.leader.lock().unwrap_or_else(|p| p.into_inner());
        if seq <= self.durable_seq() {
            return Ok(()); // a sync that ran while we queued covered us
        }
        let covered = flush()?;
        self.data_file.sync_data().map_err(&io_error)?;
        self.sync_new_blobs(&mut synced_blobs).map_err(&io_error)?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.durable.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }

    fn sync_new_blobs(&self, synced: &mut HashSet<OsString>) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(&self.blob_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut any = false;
        for entry in entries {
            let entry = entry?;
            if synced.insert(entry.file_name()) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    // sled garbage-collected it between listing and opening.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                any = true;
            }
        }
        if any {
            File::open(&self.blob_dir)?.sync_all()?;
        }
        Ok(())
    }
}
