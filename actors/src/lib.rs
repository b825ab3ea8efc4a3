//! The actors of a charon run: the [`journal`] (sequencer, direct and actix drivers), the
//! [`bot`], the [`pair`], the [`risk`] supervisor and the simulated [`exchange`], built from a
//! configuration by [`setup`]; and what they are built from: bot and pair configuration
//! ([`config`]), bars ([`bars`]), the indicators ([`indicators`]) and condition language
//! ([`strategy`]) of strategies, and the simulated exchange's exact account and fill model.

pub mod bars;
pub mod bot;
pub mod config;
pub mod exchange;
pub mod gates;
pub mod indicators;
pub mod journal;
pub mod pair;
pub mod risk;
pub mod setup;
pub mod strategy;

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod testkit;
