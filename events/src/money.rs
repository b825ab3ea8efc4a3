//! Exact decimal amounts: prices, quantities, money, rates and plain numbers, each a distinct
//! type over `rust_decimal::Decimal`, with a fixed 16-byte wire form.
//!
//! `rust_decimal` has no bincode 2 support (and fails in bincode's serde mode), so each type
//! encodes `Decimal::serialize()` verbatim and decoding validates the flags word, so a damaged
//! record can never produce an out-of-range decimal.

use std::fmt;
use std::str::FromStr;

use bincode::de::{read::Reader, Decoder};
use bincode::enc::{write::Writer, Encoder};
use bincode::error::{DecodeError, EncodeError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Bits of the flags word that `rust_decimal` uses: the scale (16..24) and the sign (31).
const FLAGS_SCALE_MASK: u32 = 0x00FF_0000;
const FLAGS_SIGN_MASK: u32 = 0x8000_0000;
const MAX_SCALE: u32 = 28;

#[inline]
pub(crate) fn encode_decimal<E: Encoder>(
    value: &Decimal,
    encoder: &mut E,
) -> Result<(), EncodeError> {
    encoder.writer().write(&value.serialize())
}

/// The decimal in 16 wire bytes, or `None` if the flags word is not one `rust_decimal` writes.
#[inline]
pub(crate) fn decimal_from_wire(bytes: [u8; 16]) -> Option<Decimal> {
    let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let scale = (flags & FLAGS_SCALE_MASK) >> 16;
    if flags & !(FLAGS_SCALE_MASK | FLAGS_SIGN_MASK) != 0 || scale > MAX_SCALE {
        return None;
    }
    Some(Decimal::deserialize(bytes))
}

#[inline]
pub(crate) fn decode_decimal<D: Decoder>(decoder: &mut D) -> Result<Decimal, DecodeError> {
    decoder.claim_bytes_read(16)?;
    let mut bytes = [0u8; 16];
    decoder.reader().read(&mut bytes)?;
    decimal_from_wire(bytes).ok_or_else(|| {
        DecodeError::OtherString(format!("invalid decimal flags {:02x?}", &bytes[..4]))
    })
}

macro_rules! decimal_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Decimal);

        impl $name {
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// `num * 10^-scale`, e.g. `new(6123456, 2)` is 61234.56.
            pub fn new(num: i64, scale: u32) -> Self {
                Self(Decimal::new(num, scale))
            }

            pub fn value(self) -> Decimal {
                self.0
            }
        }

        impl From<Decimal> for $name {
            fn from(value: Decimal) -> Self {
                Self(value)
            }
        }

        impl FromStr for $name {
            type Err = rust_decimal::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Decimal::from_str_exact(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl bincode::Encode for $name {
            fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
                encode_decimal(&self.0, encoder)
            }
        }

        impl<Context> bincode::Decode<Context> for $name {
            #[inline]
            fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
                decode_decimal(decoder).map(Self)
            }
        }

        bincode::impl_borrow_decode!($name);
    };
}

decimal_type!(
    /// A price in the quote currency per unit of the base asset.
    Price
);
decimal_type!(
    /// A quantity of the base asset (contracts for futures).
    Quantity
);
decimal_type!(
    /// An amount of money in the bot's quote currency: cash, equity, P&L, fees.
    Money
);
decimal_type!(
    /// A ratio: 0.01 is 1%. Funding rates, fractions of equity, percentages as fractions.
    Rate
);
decimal_type!(
    /// A plain number that is none of the above: an observed value or threshold of a rule that
    /// may be a count, a multiple of ATR, a number of basis points.
    Num
);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: Price) -> Price {
        let bytes = bincode::encode_to_vec(value, bincode::config::standard()).unwrap();
        assert_eq!(bytes.len(), 16, "a decimal is always 16 bytes on the wire");
        bincode::decode_from_slice(&bytes, bincode::config::standard())
            .unwrap()
            .0
    }

    #[test]
    fn decimals_keep_scale_and_sign() {
        for text in [
            "61837.63000000",
            "-0.00000001",
            "0",
            "79228162514264337593543950335",
        ] {
            let price: Price = text.parse().unwrap();
            let back = round_trip(price);
            assert_eq!(back, price);
            assert_eq!(back.to_string(), text, "scale is part of the value");
        }
    }

    #[test]
    fn invalid_flags_are_rejected_not_wrapped() {
        let mut bytes = Price::new(1, 0).0.serialize();
        bytes[2] = 29; // scale 29 is beyond rust_decimal's range
        let err = bincode::decode_from_slice::<Price, _>(&bytes, bincode::config::standard());
        assert!(err.is_err());
        let mut bytes = Price::new(1, 0).0.serialize();
        bytes[0] = 1; // unused low flag bits must be zero
        assert!(
            bincode::decode_from_slice::<Price, _>(&bytes, bincode::config::standard()).is_err()
        );
    }
}
