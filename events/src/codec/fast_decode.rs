//! A hand-written decoder for the hot path of every scan: the envelope header and the market
//! payloads (trade, book ticker, bar, funding rate, mark price). It reads exactly bincode 2's
//! standard wire format (varint integers, zigzag for signed, `u8` tags for `Option` and `bool`,
//! `u32` varint enum indices) and builds the envelope in place, instead of threading large
//! `Result`s through bincode's generic layers, which costs several times the decoding itself.
//! Every other payload is handed to bincode, or to [`super::legacy`] when an older format
//! version wrote it differently. The codec's property tests hold the two paths to the same
//! answers.

use super::error::CodecError;
use super::legacy;
use super::version::FORMAT_VERSION;
use super::wire::wire_config;
use crate::envelope::{Envelope, Origin};
use crate::event::Event;
use crate::ids::{ActorId, BotId, Seq, ShortName, Symbol, Timestamp, Venue};
use crate::money::{decimal_from_wire, Price, Quantity, Rate};
use crate::payload::market::{Aggressor, Bar, BookTicker, FundingRate, Interval, MarkPrice, Trade};

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// What was malformed, once a read has failed.
    failure: Option<CodecError>,
}

/// A failed read. Zero-sized on purpose: the reason waits in `Cursor::failure`, so that every
/// `Result` on the hot path stays small enough to travel in registers.
struct Malformed;

impl Cursor<'_> {
    #[cold]
    #[inline(never)]
    fn fail(&mut self, what: &str) -> Malformed {
        self.failure = Some(CodecError::Decode(format!("malformed {what}")));
        Malformed
    }

    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let end = self.pos + N;
        let Some(slice) = self.bytes.get(self.pos..end) else {
            return Err(self.fail("body: truncated"));
        };
        self.pos = end;
        Ok(slice.try_into().expect("slice of length N"))
    }

    #[inline(always)]
    fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.take::<1>()?[0])
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64, Malformed> {
        Ok(match self.u8()? {
            byte @ 0..=250 => u64::from(byte),
            251 => u64::from(u16::from_le_bytes(self.take()?)),
            252 => u64::from(u32::from_le_bytes(self.take()?)),
            253 => u64::from_le_bytes(self.take()?),
            _ => return Err(self.fail("varint")),
        })
    }

    /// An enum index: bincode writes it as a `u32` varint and rejects the 8-byte form.
    #[inline(always)]
    fn tag(&mut self) -> Result<u64, Malformed> {
        match self.bytes.get(self.pos) {
            Some(253) | Some(254) | Some(255) => Err(self.fail("enum tag")),
            _ => self.varint(),
        }
    }

    #[inline(always)]
    fn zigzag(&mut self) -> Result<i64, Malformed> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    #[inline(always)]
    fn bool(&mut self) -> Result<bool, Malformed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.fail("bool")),
        }
    }

    #[inline(always)]
    fn present(&mut self) -> Result<bool, Malformed> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.fail("option tag")),
        }
    }

    #[inline(always)]
    fn decimal(&mut self) -> Result<rust_decimal::Decimal, Malformed> {
        let bytes = self.take::<16>()?;
        decimal_from_wire(bytes).ok_or_else(|| self.fail("decimal"))
    }

    #[inline(always)]
    fn name(&mut self) -> Result<ShortName, Malformed> {
        let len = self.u8()? as usize;
        let Some(bytes) = self.bytes.get(self.pos..self.pos + len) else {
            return Err(self.fail("name"));
        };
        self.pos += len;
        ShortName::from_wire(bytes).ok_or_else(|| self.fail("name"))
    }

    #[inline(always)]
    fn timestamp(&mut self) -> Result<Timestamp, Malformed> {
        self.zigzag().map(Timestamp)
    }
}

/// Decodes a record body that format `version` wrote (see `codec::decode_body_of`).
#[inline]
pub(crate) fn decode_body(version: u8, seq: Seq, bytes: &[u8]) -> Result<Envelope, CodecError> {
    let mut cur = Cursor {
        bytes,
        pos: 0,
        failure: None,
    };
    decode_envelope(version, seq, &mut cur)
        .map_err(|Malformed| cur.failure.take().expect("a failed read records why"))
}

#[inline(always)]
fn decode_envelope(version: u8, seq: Seq, cur: &mut Cursor<'_>) -> Result<Envelope, Malformed> {
    let bytes = cur.bytes;
    let ts = cur.timestamp()?;
    let origin = match cur.tag()? {
        0 => Origin::Input,
        1 => Origin::Derived(match cur.tag()? {
            0 => ActorId::Journal,
            1 => ActorId::Bot(BotId(cur.name()?)),
            2 => ActorId::Pair(Symbol(cur.name()?)),
            3 => ActorId::RiskSupervisor(BotId(cur.name()?)),
            4 => ActorId::Exchange(Venue(cur.name()?)),
            _ => return Err(cur.fail("actor id")),
        }),
        _ => return Err(cur.fail("origin")),
    };
    let cause = if cur.present()? {
        Some(cur.varint()?)
    } else {
        None
    };
    let bot = if cur.present()? {
        Some(BotId(cur.name()?))
    } else {
        None
    };
    let pair = if cur.present()? {
        Some(Symbol(cur.name()?))
    } else {
        None
    };
    let payload_at = cur.pos;
    let payload = match cur.tag()? {
        0 => Event::Trade(Trade {
            trade_id: cur.varint()?,
            price: Price(cur.decimal()?),
            qty: Quantity(cur.decimal()?),
            aggressor: match cur.tag()? {
                0 => Aggressor::Buyer,
                1 => Aggressor::Seller,
                2 => Aggressor::Unknown,
                _ => return Err(cur.fail("aggressor")),
            },
        }),
        1 => Event::BookTicker(BookTicker {
            update_id: cur.varint()?,
            bid: Price(cur.decimal()?),
            bid_qty: Quantity(cur.decimal()?),
            ask: Price(cur.decimal()?),
            ask_qty: Quantity(cur.decimal()?),
        }),
        2 => Event::Bar(Bar {
            interval: Interval(u32::try_from(cur.tag()?).map_err(|_| cur.fail("interval"))?),
            open_time: cur.timestamp()?,
            open: Price(cur.decimal()?),
            high: Price(cur.decimal()?),
            low: Price(cur.decimal()?),
            close: Price(cur.decimal()?),
            volume: Quantity(cur.decimal()?),
            trades: if cur.present()? {
                Some(cur.varint()?)
            } else {
                None
            },
            closed: cur.bool()?,
        }),
        3 => Event::FundingRate(FundingRate {
            rate: Rate(cur.decimal()?),
            funding_time: cur.timestamp()?,
        }),
        4 => Event::MarkPrice(MarkPrice {
            mark: Price(cur.decimal()?),
            index: if cur.present()? {
                Some(Price(cur.decimal()?))
            } else {
                None
            },
            funding_rate: if cur.present()? {
                Some(Rate(cur.decimal()?))
            } else {
                None
            },
            next_funding_time: if cur.present()? {
                Some(cur.timestamp()?)
            } else {
                None
            },
        }),
        tag => {
            let older = (version != FORMAT_VERSION)
                .then(|| legacy::decode_payload(version, tag, &bytes[cur.pos..]))
                .flatten();
            let decoded = match older {
                Some(decoded) => decoded.map(|(payload, used)| (payload, cur.pos + used)),
                None => bincode::decode_from_slice::<Event, _>(&bytes[payload_at..], wire_config())
                    .map(|(payload, used)| (payload, payload_at + used)),
            };
            match decoded {
                Ok((payload, end)) => {
                    cur.pos = end;
                    payload
                }
                Err(e) => {
                    cur.failure = Some(CodecError::Decode(e.to_string()));
                    return Err(Malformed);
                }
            }
        }
    };
    if cur.pos != bytes.len() {
        cur.failure = Some(CodecError::TrailingBytes(bytes.len() - cur.pos));
        return Err(Malformed);
    }
    Ok(Envelope {
        seq,
        ts,
        origin,
        cause,
        bot,
        pair,
        payload,
    })
}
