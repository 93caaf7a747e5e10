//! Obtaining a snapshot: from a file, from the bundled demo, or by collecting live.

use rdsguard_model::Snapshot;

use crate::cli::{LiveArgs, SourceArgs};

/// Load or collect the snapshot the user asked for.
pub fn obtain(source: &SourceArgs) -> anyhow::Result<Snapshot> {
    if let Some(path) = &source.snapshot {
        return rdsguard_model::io::read_snapshot(path).map_err(anyhow::Error::from);
    }
    if source.demo {
        return Ok(rdsguard_demo::demo_snapshot());
    }
    collect_live(&source.live)
}

#[cfg(feature = "live")]
pub fn collect_live(live: &LiveArgs) -> anyhow::Result<Snapshot> {
    use anyhow::Context;

    use crate::progress::BarProgress;

    let opts = rdsguard_collect::CollectOptions {
        profile: live.profile.clone(),
        regions: live.regions.clone(),
        all_regions: live.all_regions,
        endpoint_url: live.endpoint_url.clone(),
        concurrency: live.concurrency.max(1),
        max_attempts: live.max_attempts.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = BarProgress::new();
    let snapshot = runtime
        .block_on(rdsguard_collect::collect(&opts, &progress))
        .context("collection failed")?;
    progress.finish_summary(&snapshot);
    Ok(snapshot)
}

#[cfg(not(feature = "live"))]
pub fn collect_live(_live: &LiveArgs) -> anyhow::Result<Snapshot> {
    anyhow::bail!(
        "this rdsguard was built without live collection (feature `live`); \
         pass --snapshot FILE or --demo, or rebuild with default features"
    )
}
