//! Framing: the `[format version][CRC32]` header in front of a record or a block, the CRC
//! binding the contents to their seq, and the varint lengths inside blocks.

use super::body::{decode_body_of, encode_body};
use super::error::CodecError;
use super::version::{FORMAT_VERSION, OLDEST_READABLE_VERSION};
use super::wire::HEADER_LEN;
use crate::envelope::Envelope;
use crate::ids::Seq;

/// That a record or block written in `version` can be read by this build.
fn check_version(version: u8) -> Result<(), CodecError> {
    if version > FORMAT_VERSION {
        Err(CodecError::NewerVersion { found: version })
    } else if version < OLDEST_READABLE_VERSION {
        Err(CodecError::UnknownVersion { found: version })
    } else {
        Ok(())
    }
}

fn checksum(seq: Seq, version: u8, rest: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_be_bytes());
    hasher.update(&[version]);
    hasher.update(rest);
    hasher.finalize()
}

/// A buffer that starts with room for the header; write the record or block after it.
pub(crate) fn open_frame(capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + capacity);
    out.extend_from_slice(&[FORMAT_VERSION, 0, 0, 0, 0]);
    out
}

/// Fills in the header of a buffer from [`open_frame`]: the CRC binds the contents to `seq`.
pub(crate) fn seal_frame(seq: Seq, mut out: Vec<u8>) -> Vec<u8> {
    let crc = checksum(seq, FORMAT_VERSION, &out[HEADER_LEN..]);
    out[1..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a frame's version and its CRC under `seq`: its version and what follows the header.
pub(crate) fn open_checked(seq: Seq, bytes: &[u8]) -> Result<(u8, &[u8]), CodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(CodecError::Truncated { len: bytes.len() });
    }
    let (version, rest) = (bytes[0], &bytes[HEADER_LEN..]);
    let stored = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    check_version(version)?;
    let computed = checksum(seq, version, rest);
    if stored != computed {
        return Err(CodecError::Crc { stored, computed });
    }
    Ok((version, rest))
}

/// Frames `contents` (a body, or a block's count and entries) under `seq` with a valid header.
/// The log never needs this (it encodes in place); tools that build or damage records do.
pub fn frame(seq: Seq, contents: &[u8]) -> Vec<u8> {
    let mut out = open_frame(contents.len());
    out.extend_from_slice(contents);
    seal_frame(seq, out)
}

/// Encodes `env` as a framed record under `env.seq`.
pub fn encode_record(env: &Envelope) -> Result<Vec<u8>, CodecError> {
    let mut out = open_frame(64);
    encode_body(env, &mut out)?;
    Ok(seal_frame(env.seq, out))
}

/// Checks a record's version and CRC: the format version that wrote it and its body bytes.
pub fn verify_record(seq: Seq, bytes: &[u8]) -> Result<(u8, &[u8]), CodecError> {
    open_checked(seq, bytes)
}

/// Decodes a framed record stored under `seq`, whichever readable version wrote it.
pub fn decode_record(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let (version, body) = verify_record(seq, bytes)?;
    decode_body_of(version, seq, body)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn take_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, CodecError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes
            .get(*pos)
            .ok_or_else(|| CodecError::Decode("block ends inside a length".into()))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(CodecError::Decode(
        "length prefix longer than 10 bytes".into(),
    ))
}

/// Takes the next length-prefixed entry of a block's entries at `pos`, advancing `pos`.
pub fn take_entry<'a>(entries: &'a [u8], pos: &mut usize) -> Result<&'a [u8], CodecError> {
    let len = take_varint(entries, pos)?;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let end = pos.checked_add(len).filter(|&end| end <= entries.len());
    let end = end.ok_or_else(|| CodecError::Decode("entry runs past the block".into()))?;
    let body = &entries[*pos..end];
    *pos = end;
    Ok(body)
}

/// Frames `contents` under `seq` as format `version` would: what a test needs to write the
/// records and blocks of an older build.
#[cfg(test)]
pub(crate) fn frame_in_version(version: u8, seq: Seq, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![version, 0, 0, 0, 0];
    out.extend_from_slice(contents);
    let crc = checksum(seq, version, &out[HEADER_LEN..]);
    out[1..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    out
}
