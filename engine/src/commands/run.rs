//! `charon run`: a paper run fed by `charon feed`, continuing its log after a crash or a stop
//! (the run itself: `crate::paper`).

use crate::cli::RunArgs;
use crate::error::CommandError;
use crate::paper;

pub fn run(args: RunArgs) -> Result<(), CommandError> {
    let _command =
        tracing::info_span!("run", log = %args.log.display(), feed = %args.feed).entered();
    let ended = paper::run(&args)?;
    outln!(
        "charon run: the feed ended; {} inputs, {} derived events, {} malformed frames; log {} \
         through seq {}",
        ended.inputs,
        ended.derived,
        ended.malformed,
        args.log.display(),
        ended.last_seq
    );
    Ok(())
}
