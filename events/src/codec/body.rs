//! Event bodies: the envelope without its seq (the seq is the key it is stored under), as
//! bincode 2 writes it, and read back by the fast decoder.

use super::error::CodecError;
use super::fast_decode;
use super::version::FORMAT_VERSION;
use super::wire::wire_config;
use crate::envelope::{Body, BodyRef, Envelope};
use crate::ids::Seq;

/// Appends the bincode body of `env` (everything but its seq) to `out`, in today's format.
pub fn encode_body(env: &Envelope, out: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::encode_into_std_write(BodyRef::from(env), out, wire_config())
        .map(|_| ())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Decodes a body written by [`encode_body`] of this build; every byte must belong to it.
#[inline]
pub fn decode_body(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    fast_decode::decode_body(FORMAT_VERSION, seq, bytes)
}

/// Decodes a body that format `version` wrote (the version byte of the record or block that
/// holds it); every byte must belong to it.
#[inline]
pub fn decode_body_of(version: u8, seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    fast_decode::decode_body(version, seq, bytes)
}

/// The same as [`decode_body`], entirely through bincode's derived decoders: the reference the
/// fast path is tested against.
pub fn decode_body_reference(seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let (body, used): (Body, usize) = bincode::decode_from_slice(bytes, wire_config())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    if used != bytes.len() {
        return Err(CodecError::TrailingBytes(bytes.len() - used));
    }
    Ok(body.with_seq(seq))
}
