//! The on-disk framing of events.
//!
//! A **record** (run and live logs, one per key) is
//! `[format version: u8][crc32: u32 LE][bincode body]`; a **block** (data logs, many events per
//! key) is `[format version: u8][crc32: u32 LE][count: varint]([len: varint][bincode body])*`.
//! Bodies are the envelope without its seq, which is the key. The CRC covers the seq (the
//! first seq for a block) as well as the bytes after it, so a record under the wrong key fails
//! its check just like a flipped bit does.
//!
//! Every record and block says which format version wrote it, and is read back as that version
//! wrote it ([`FORMAT_VERSION`]; `legacy.rs` reads what older versions laid out otherwise): a
//! log written by an older build stays readable, and a log may mix versions (a run continued by
//! a newer build).

mod block;
mod body;
mod error;
mod fast_decode;
mod frame;
mod legacy;
mod version;
mod wire;

pub use block::{BlockBodies, BlockReader, BlockWriter};
pub use body::{decode_body, decode_body_of, decode_body_reference, encode_body};
pub use error::CodecError;
pub use frame::{decode_record, encode_record, frame, take_entry, verify_record};
#[cfg(test)]
pub(crate) use frame::{frame_in_version, put_varint};
pub use version::{FORMAT_VERSION, OLDEST_READABLE_VERSION};

#[cfg(test)]
mod tests {
    use super::frame::{put_varint, take_varint};
    use super::*;
    use crate::envelope::Envelope;
    use crate::event::{Event, EventKind};
    use crate::ids::{Seq, Symbol, Timestamp};
    use crate::payload::market::{Aggressor, Trade};
    use crate::samples;

    fn trade(seq: Seq) -> Envelope {
        let mut env = Envelope::input(
            Timestamp::from_millis(1_723_161_255_342),
            Event::Trade(Trade {
                trade_id: 3_735_683_259 + seq,
                price: "61837.63".parse().unwrap(),
                qty: "0.02".parse().unwrap(),
                aggressor: Aggressor::Seller,
            }),
        )
        .with_pair(Symbol::new("BTCUSDT").unwrap());
        env.seq = seq;
        env
    }

    #[test]
    fn record_round_trips_and_binds_its_seq() {
        let env = trade(42);
        let bytes = encode_record(&env).unwrap();
        assert_eq!(decode_record(42, &bytes).unwrap(), env);
        assert!(matches!(
            decode_record(43, &bytes),
            Err(CodecError::Crc { .. })
        ));
    }

    #[test]
    fn every_flipped_bit_is_detected() {
        let bytes = encode_record(&trade(7)).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut damaged = bytes.clone();
            damaged[i / 8] ^= 1 << (i % 8);
            assert!(
                decode_record(7, &damaged).is_err(),
                "bit {i} flip went unnoticed"
            );
        }
    }

    #[test]
    fn versions_are_checked_before_the_crc() {
        let mut bytes = encode_record(&trade(1)).unwrap();
        bytes[0] = FORMAT_VERSION + 1;
        assert_eq!(
            decode_record(1, &bytes),
            Err(CodecError::NewerVersion {
                found: FORMAT_VERSION + 1
            })
        );
        bytes[0] = 0;
        assert_eq!(
            decode_record(1, &bytes),
            Err(CodecError::UnknownVersion { found: 0 })
        );
        assert_eq!(
            decode_record(1, &bytes[..3]),
            Err(CodecError::Truncated { len: 3 })
        );
    }

    #[test]
    fn block_holds_consecutive_events() {
        let mut writer = BlockWriter::new(100);
        for seq in 100..110 {
            writer.push(&trade(seq)).unwrap();
        }
        let bytes = writer.encode();
        let reader = BlockReader::open(100, &bytes).unwrap();
        assert_eq!((reader.count(), reader.last_seq()), (10, 109));
        let seqs: Vec<Seq> = reader.bodies().map(|b| b.unwrap().0).collect();
        assert_eq!(seqs, (100..110).collect::<Vec<_>>());
        assert_eq!(reader.get(105).unwrap(), trade(105));
        assert!(reader.get(110).is_err());
        assert!(matches!(
            BlockReader::open(101, &bytes),
            Err(CodecError::Crc { .. })
        ));
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        for value in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut pos = 0;
            assert_eq!(take_varint(&out, &mut pos).unwrap(), value);
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn a_version_1_manifest_reads_back_without_a_data_path() {
        let mut manifest = samples::one_of_each()
            .into_iter()
            .find(|env| env.payload.kind() == EventKind::RunManifest)
            .expect("a manifest sample");
        let Event::RunManifest(inner) = &mut manifest.payload else {
            unreachable!()
        };
        inner.data_path = None;
        let mut v2 = Vec::new();
        encode_body(&manifest, &mut v2).unwrap();
        // Version 2 appended `data_path` to the manifest, the body's last field: `None` is one
        // zero byte, so a version-1 body is the same bytes without it.
        assert_eq!(v2.last(), Some(&0));
        let v1 = &v2[..v2.len() - 1];
        assert_eq!(decode_body_of(1, manifest.seq, v1).unwrap(), manifest);
        assert!(decode_body_of(2, manifest.seq, v1).is_err());
        assert!(matches!(
            decode_body_of(1, manifest.seq, &v2),
            Err(CodecError::TrailingBytes(1))
        ));
        assert_eq!(decode_body_of(2, manifest.seq, &v2).unwrap(), manifest);
    }

    #[test]
    fn payloads_that_did_not_change_read_alike_in_every_version() {
        for env in samples::one_of_each() {
            if env.payload.kind() == EventKind::RunManifest {
                continue;
            }
            let mut body = Vec::new();
            encode_body(&env, &mut body).unwrap();
            for version in OLDEST_READABLE_VERSION..=FORMAT_VERSION {
                assert_eq!(decode_body_of(version, env.seq, &body).unwrap(), env);
            }
        }
    }
}
