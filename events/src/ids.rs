//! Identifiers: sequence numbers, event time, short inline names (symbols, bots, venues),
//! actor ids, deterministic client order ids and uuid-based log ids.

use std::fmt;
use std::str::FromStr;

use bincode::de::{read::Reader, Decoder};
use bincode::enc::{write::Writer, Encoder};
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Position of an event in its log; contiguous from 1, assigned by the log on append.
pub type Seq = u64;

/// Event time: nanoseconds since the Unix epoch, UTC. Actors read time only from these.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_nanos(ns: i64) -> Self {
        Self(ns)
    }

    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1_000_000))
    }

    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// RFC 3339 with nanoseconds, e.g. `2024-08-08T23:54:13.937085768Z`.
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_nanos(self.0)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name must not be empty")]
    Empty,
    #[error("name {0:?} is longer than {max} bytes", max = ShortName::MAX_LEN)]
    TooLong(String),
    #[error("name {0:?} may hold only ASCII letters, digits and . _ - / :")]
    BadCharacter(String),
}

/// A short ASCII name stored inline (no heap): symbols, bot names, venues.
///
/// Inline storage keeps market events allocation-free to decode. The allowed characters are
/// those Binance accepts in a client order id, so a name can be embedded in one.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortName {
    len: u8,
    bytes: [u8; ShortName::MAX_LEN],
}

impl ShortName {
    pub const MAX_LEN: usize = 23;

    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > Self::MAX_LEN {
            return Err(NameError::TooLong(name.to_string()));
        }
        if !name.bytes().all(is_name_byte) {
            return Err(NameError::BadCharacter(name.to_string()));
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(Self {
            len: name.len() as u8,
            bytes,
        })
    }

    /// Builds a name from wire bytes, validating them; `None` if they are not a valid name.
    #[inline]
    pub(crate) fn from_wire(bytes: &[u8]) -> Option<Self> {
        if bytes.is_empty()
            || bytes.len() > Self::MAX_LEN
            || !bytes.iter().copied().all(is_name_byte)
        {
            return None;
        }
        let mut inline = [0u8; Self::MAX_LEN];
        inline[..bytes.len()].copy_from_slice(bytes);
        Some(Self {
            len: bytes.len() as u8,
            bytes: inline,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only validated ASCII is ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("names are ASCII")
    }
}

/// Which bytes a name may hold, as a table: decoding checks every name of every event.
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'/' | b':');
        b += 1;
    }
    table
};

#[inline]
fn is_name_byte(b: u8) -> bool {
    NAME_BYTES[b as usize]
}

impl fmt::Debug for ShortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Encode for ShortName {
    #[inline]
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        encoder.writer().write(&[self.len])?;
        encoder.writer().write(&self.bytes[..self.len as usize])
    }
}

impl<Context> Decode<Context> for ShortName {
    #[inline]
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        let mut len = [0u8; 1];
        decoder.claim_bytes_read(1)?;
        decoder.reader().read(&mut len)?;
        let len = len[0] as usize;
        if len == 0 || len > Self::MAX_LEN {
            return Err(DecodeError::OtherString(format!(
                "name length {len} out of range"
            )));
        }
        decoder.claim_bytes_read(len)?;
        let mut bytes = [0u8; Self::MAX_LEN];
        decoder.reader().read(&mut bytes[..len])?;
        Self::from_wire(&bytes[..len])
            .ok_or_else(|| DecodeError::OtherString("name holds a forbidden byte".into()))
    }
}
bincode::impl_borrow_decode!(ShortName);

impl Serialize for ShortName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ShortName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ShortName::new(&text).map_err(serde::de::Error::custom)
    }
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub ShortName);

        impl $name {
            pub fn new(name: &str) -> Result<Self, NameError> {
                ShortName::new(name).map(Self)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

name_type!(
    /// An exchange symbol, e.g. `BTCUSDT`. A pair is identified by its symbol: one pair belongs
    /// to exactly one bot.
    Symbol
);
name_type!(
    /// A bot's name, unique within a deployment.
    BotId
);
name_type!(
    /// An exchange venue, e.g. `binance-spot`, `binance-usdm`, `sim`.
    Venue
);

/// The actor that derived an event. The Journal delivers derived events in this order, so the
/// derived `Ord` is part of the determinism contract: do not reorder the variants.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize, Deserialize,
)]
#[serde(tag = "actor", content = "id", rename_all = "snake_case")]
pub enum ActorId {
    Journal,
    Bot(BotId),
    Pair(Symbol),
    RiskSupervisor(BotId),
    Exchange(Venue),
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorId::Journal => f.write_str("journal"),
            ActorId::Bot(id) => write!(f, "bot:{id}"),
            ActorId::Pair(symbol) => write!(f, "pair:{symbol}"),
            ActorId::RiskSupervisor(id) => write!(f, "risk:{id}"),
            ActorId::Exchange(venue) => write!(f, "exchange:{venue}"),
        }
    }
}

/// A client order id derived from (pair, causing seq, leg): deterministic, so a replay issues
/// the very same ids, and unique within a log because a seq causes each leg once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct ClientOrderId {
    pub pair: Symbol,
    pub cause: Seq,
    pub leg: u16,
}

impl ClientOrderId {
    /// The id as sent to an exchange: `BTCUSDT-1234-0`, at most 23 + 1 + 20 + 1 + 5 = 50 bytes.
    /// Binance allows 36, so its adapter must map longer ids (e.g. by shortening the symbol).
    pub fn to_wire(&self) -> String {
        format!("{}-{}-{}", self.pair, self.cause, self.leg)
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl Serialize for ClientOrderId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl ClientOrderId {
    /// The id back from its wire form (`BTCUSDT-1234-0`; the symbol may hold `-` itself).
    pub fn from_wire(text: &str) -> Option<Self> {
        let mut parts = text.rsplitn(3, '-');
        let leg = parts.next()?.parse().ok()?;
        let cause = parts.next()?.parse().ok()?;
        let pair = Symbol::new(parts.next()?).ok()?;
        Some(Self { pair, cause, leg })
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_wire(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a client order id: {text}")))
    }
}

/// A log's identity: random, recorded in its meta record, cited by run manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogId(pub Uuid);

impl LogId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Encode for LogId {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        encoder.writer().write(self.0.as_bytes())
    }
}

impl<Context> Decode<Context> for LogId {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        decoder.claim_bytes_read(16)?;
        let mut bytes = [0u8; 16];
        decoder.reader().read(&mut bytes)?;
        Ok(Self(Uuid::from_bytes(bytes)))
    }
}
bincode::impl_borrow_decode!(LogId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert_eq!(Symbol::new("BTCUSDT").unwrap().as_str(), "BTCUSDT");
        assert_eq!(ShortName::new(""), Err(NameError::Empty));
        assert!(matches!(
            ShortName::new(&"X".repeat(24)),
            Err(NameError::TooLong(_))
        ));
        assert!(matches!(
            ShortName::new("BTC USDT"),
            Err(NameError::BadCharacter(_))
        ));
        assert!(ShortName::new(&"X".repeat(23)).is_ok());
    }

    #[test]
    fn short_name_wire_form_is_length_prefixed() {
        let name = ShortName::new("ETHUSDT").unwrap();
        let bytes = bincode::encode_to_vec(name, bincode::config::standard()).unwrap();
        assert_eq!(bytes, b"\x07ETHUSDT");
        let bad = b"\x02E ";
        assert!(
            bincode::decode_from_slice::<ShortName, _>(bad, bincode::config::standard()).is_err()
        );
    }

    #[test]
    fn actor_order_is_by_kind_then_name() {
        let bot = BotId::new("b").unwrap();
        let mut actors = [
            ActorId::Exchange(Venue::new("sim").unwrap()),
            ActorId::Pair(Symbol::new("ETHUSDT").unwrap()),
            ActorId::RiskSupervisor(bot),
            ActorId::Pair(Symbol::new("BTCUSDT").unwrap()),
            ActorId::Bot(bot),
        ];
        actors.sort();
        let names: Vec<String> = actors.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            names,
            [
                "bot:b",
                "pair:BTCUSDT",
                "pair:ETHUSDT",
                "risk:b",
                "exchange:sim"
            ]
        );
    }

    #[test]
    fn timestamps_render_in_utc() {
        let ts = Timestamp::from_nanos(1_723_161_253_937_085_768);
        assert_eq!(ts.to_string(), "2024-08-08T23:54:13.937085768Z");
        assert_eq!(Timestamp::from_millis(1_000).nanos(), 1_000_000_000);
    }
}
