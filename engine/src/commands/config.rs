//! `charon config check`: load a configuration and its templates, and say what is wrong or
//! what it configures.

use crate::cli::ConfigCommand;
use crate::config_files::load_file;
use crate::error::CommandError;

pub fn run(command: ConfigCommand) -> Result<(), CommandError> {
    match command {
        ConfigCommand::Check { config } => {
            let loaded = load_file(&config)?;
            for bot in &loaded.config.bot {
                outln!("bot {} ({} {})", bot.name, bot.initial_capital, bot.quote);
                for pair in &bot.pair {
                    let Some(strategy) = loaded.strategies.get(&pair.strategy) else {
                        continue;
                    };
                    outln!(
                        "  {} {:?} {}: {} ({})",
                        pair.symbol,
                        pair.market,
                        pair.timeframe.as_deref().unwrap_or("(its data's interval)"),
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
