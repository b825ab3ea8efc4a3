//! Builds the actors of a run from a checked configuration: per bot a Bot, a RiskSupervisor
//! and a Pair per pair, and one simulated Exchange holding every bot's account. The same set
//! runs under the direct Journal (backtests) and the actix shells (paper).

use std::collections::BTreeMap;

use charon_events::payload::market::Interval;
use charon_events::{Symbol, Venue};

use crate::bars::BarError;
use crate::bot::Bot;
use crate::config::{Config, StrategyTemplate};
use crate::exchange::{FillModelError, SimulatedExchange};
use crate::journal::Actor;
use crate::pair::{Pair, PairSetup};
use crate::risk::RiskSupervisor;
use crate::strategy::rules::{RulesError, StrategyRules};

/// The venue name of the simulated exchange in run logs.
pub const SIMULATED_VENUE: &str = "simulated";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{pair}: no strategy template was given")]
    MissingTemplate { pair: Symbol },
    #[error("{pair}: timeframe {timeframe:?}: {reason}")]
    Timeframe {
        pair: Symbol,
        timeframe: String,
        reason: String,
    },
    #[error("{pair}: {source}")]
    Rules {
        pair: Symbol,
        #[source]
        source: RulesError,
    },
    #[error("{pair}: {source}")]
    Bars {
        pair: Symbol,
        #[source]
        source: BarError,
    },
    #[error("simulation: {0}")]
    FillModel(#[from] FillModelError),
}

/// Every actor of a run over `config`, with each pair's strategy template from `templates`
/// (by symbol).
pub fn build_actors(
    config: &Config,
    templates: &BTreeMap<Symbol, StrategyTemplate>,
) -> Result<Vec<Box<dyn Actor>>, SetupError> {
    let model = config.simulation.fill_model()?;
    let venue = Venue::new(SIMULATED_VENUE).expect("a valid venue name");
    let mut actors: Vec<Box<dyn Actor>> = Vec::new();
    for bot in &config.bot {
        actors.push(Box::new(Bot::new(bot)));
        actors.push(Box::new(RiskSupervisor::new(bot)));
        for pair in &bot.pair {
            let symbol = pair.symbol;
            let template = templates
                .get(&symbol)
                .ok_or(SetupError::MissingTemplate { pair: symbol })?;
            let timeframe: Interval =
                pair.timeframe_text()
                    .parse()
                    .map_err(|reason| SetupError::Timeframe {
                        pair: symbol,
                        timeframe: pair.timeframe_text().to_string(),
                        reason,
                    })?;
            let rules = StrategyRules::new(template).map_err(|source| SetupError::Rules {
                pair: symbol,
                source,
            })?;
            let setup = PairSetup {
                bot: bot.name,
                config: pair.clone(),
                timeframe,
                timeframe_from_data: pair.timeframe.is_none(),
                rules,
                initial_equity: bot.initial_capital,
                fill_at: config.simulation.fill,
                taker_fee: config.simulation.taker_fee(),
                intrabar: config.simulation.intrabar(),
                entry_on_exit_bar: config.simulation.entry_on_exit_bar(),
            };
            let pair = Pair::new(setup).map_err(|source| SetupError::Bars {
                pair: symbol,
                source,
            })?;
            actors.push(Box::new(pair));
        }
    }
    actors.push(Box::new(SimulatedExchange::new(venue, model, config)));
    Ok(actors)
}
