//! `charon feed DATA`: serves a data log as a market feed to paper runs in other processes
//! (the protocol: `crate::feed`).

use charon_replay::run::RunError;

use crate::cli::FeedArgs;
use crate::error::CommandError;
use crate::feed::FeedServer;
use crate::open_log::open_existing;
use crate::output::flush_stdout;

pub fn run(args: FeedArgs) -> Result<(), CommandError> {
    let _command = tracing::info_span!("feed", data = %args.data.display()).entered();
    let data = open_existing(&args.data)?;
    if data.kind() != charon_events::LogKind::Data {
        return Err(RunError::NotADataLog {
            path: args.data.clone(),
            kind: data.kind(),
        }
        .into());
    }
    let server = FeedServer::bind(&args.listen)?;
    outln!("listening on {}", server.address()?);
    flush_stdout()?;
    server.serve(&data, args.connections);
    Ok(())
}
