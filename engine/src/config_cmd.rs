//! `charon config check`: load a configuration and its templates, and say what is wrong or
//! what it configures.

use crate::cli::ConfigCommand;
use crate::config_file::{load, Loaded};
use crate::failure::Failure;

pub fn run(command: ConfigCommand) -> Result<(), Failure> {
    match command {
        ConfigCommand::Check { config } => {
            let loaded = load(&config).map_err(|errors| Failure::BadInput(errors.to_string()))?;
            for bot in &loaded.config.bot {
                outln!("bot {} ({} {})", bot.name, bot.initial_capital, bot.quote);
                for pair in &bot.pair {
                    let path = Loaded::template_path(&config, &pair.strategy);
                    let Some(strategy) = loaded.strategies.get(&path) else {
                        continue;
                    };
                    outln!(
                        "  {} {:?} {}: {} ({})",
                        pair.symbol,
                        pair.market,
                        pair.timeframe,
                        strategy.template.name,
                        strategy.summary()
                    );
                }
            }
            outln!("{} ok", config.display());
            Ok(())
        }
    }
}
