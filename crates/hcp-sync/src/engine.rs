//! One hall's sync: a fetcher reading pages ahead within a byte budget, an applier storing each batch with its cursor through the FeedSink, 410 restarts, retries and the stall watchdog.

use super::*;

/// Syncs one hall to the end of its feed, into any [`FeedSink`] (the desktop's
/// cache, the hub's database).
pub async fn sync_hall_into<S: FeedSink>(
    sink: &mut S,
    ep: HallEndpoint,
    options: &SyncOptions,
    progress: ProgressFn,
) -> HallReport {
    let started = Instant::now();
    let attempted_at = chrono::Utc::now();
    progress(&SyncEvent::Started {
        hall_id: ep.hall_id.clone(),
    });
    let mut report = HallReport {
        hall_id: ep.hall_id.clone(),
        pages: 0,
        records: 0,
        outcome: PageOutcome::default(),
        restarts: 0,
        retries: 0,
        elapsed_ms: 0,
        error: None,
    };
    let result = run_hall(sink, &ep, options, &progress, &mut report).await;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    let err_text = result.as_ref().err().map(ToString::to_string);
    if let Some(e) = &err_text {
        tracing::warn!(hall_id = %ep.hall_id, error = %e, "hall sync failed");
    }
    report.error = err_text.clone();
    // Record the outcome on the hall (best effort: the sink may be what failed).
    sink.finish(
        &ep.hall_id,
        attempted_at,
        err_text.as_deref().map_or(Ok(()), Err),
    )
    .await;
    progress(&SyncEvent::Finished {
        report: report.clone(),
    });
    report
}

/// Pages the fetcher may hold ready for the applier (a full page of 5000 changes
/// is a few MB parsed)…
pub(crate) const FETCH_AHEAD_PAGES: usize = 6;

/// …and bytes of page bodies, whatever their number: a hall that sends pages near
/// the size cap cannot make the console hold six of them. A sync of several halls
/// shares one such budget among all of them.
pub(crate) const FETCH_AHEAD_BYTES: usize = 64 * 1024 * 1024;

/// At most this many changes are stored in one transaction.
pub(crate) const MAX_BATCH_CHANGES: u64 = 30_000;

/// What the fetcher hands the applier.
pub(crate) enum Fetched {
    Page {
        page: Box<Prepared>,
        /// A freshly fetched profile when the page announced a newer one.
        profile: Option<Box<HallProfile>>,
    },
    Restart,
}

pub(crate) async fn run_hall<S: FeedSink>(
    sink: &mut S,
    ep: &HallEndpoint,
    options: &SyncOptions,
    progress: &ProgressFn,
    report: &mut HallReport,
) -> Result<(), SyncError> {
    // Registered before codes were checked? Then it must be registered again.
    hcp_core::ident::check_hall_id(&ep.hall_id)
        .map_err(|e| SyncError::InvalidHallId(e.to_string()))?;
    let client = Arc::new(HallClient::new(ep, options)?);
    let (cursor, profile_rev) = sink.begin(&ep.hall_id).await?;

    let retries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let on_retry: Arc<dyn Fn(RetryNotice) + Send + Sync> = {
        let progress = progress.clone();
        let hall_id = ep.hall_id.clone();
        let retries = retries.clone();
        Arc::new(move |n: RetryNotice| {
            retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            progress(&SyncEvent::Retrying {
                hall_id: hall_id.clone(),
                attempt: n.attempt,
                reason: n.reason,
                wait_ms: n.wait.as_millis() as u64,
            })
        })
    };

    // The fetcher runs ahead of the applier; the cursor is stored only by the
    // applier, together with the page.
    let (tx, mut rx) = mpsc::channel::<Result<Fetched, SyncError>>(FETCH_AHEAD_PAGES);
    // Shared by the halls of one sync, or this hall's own.
    let budget = options
        .shared_budget
        .clone()
        .unwrap_or_else(|| FetchBudget::new(FETCH_AHEAD_BYTES));
    let fetcher = {
        let client = client.clone();
        let on_retry = on_retry.clone();
        let limit = options.page_limit.clamp(1, MAX_PAGE_LIMIT);
        let hall_id = ep.hall_id.clone();
        tokio::spawn(async move {
            let mut after = cursor;
            let mut known_profile_rev = profile_rev;
            loop {
                let h = hall_id.clone();
                let asked = after.clone();
                let read = move |body: Bytes| {
                    let h = h.clone();
                    let asked = asked.clone();
                    async move {
                        tokio::task::spawn_blocking(move || {
                            prepare(body, &h, asked.as_deref(), limit)
                        })
                        .await
                        .map_err(|e| e.to_string())?
                    }
                };
                let fetched = match client
                    .changes_with(after.as_deref(), limit, &*on_retry, read)
                    .await
                {
                    Ok(mut page) => {
                        after = Some(page.next.clone());
                        let profile = match page.profile_rev {
                            Some(rev) if rev > known_profile_rev => {
                                match client.profile(&*on_retry).await {
                                    Ok(p) if p.hall_id == hall_id => {
                                        known_profile_rev = p.profile_rev.max(rev);
                                        Some(Box::new(p))
                                    }
                                    Ok(p) => {
                                        let _ = tx
                                            .send(Err(SyncError::HallMismatch {
                                                expected: hall_id.clone(),
                                                found: hcp_core::ident::printable(&p.hall_id),
                                            }))
                                            .await;
                                        return;
                                    }
                                    Err(e) => {
                                        let _ = tx.send(Err(e)).await;
                                        return;
                                    }
                                }
                            }
                            _ => None,
                        };
                        // Wait for room in the byte budget before holding another page.
                        let kib = page
                            .body
                            .len()
                            .div_ceil(1024)
                            // A page larger than the whole budget takes all of it.
                            .clamp(1, budget.kib);
                        match budget.permits.clone().acquire_many_owned(kib as u32).await {
                            Ok(permit) => page.budget = Some(permit),
                            Err(_) => return,
                        }
                        let more = page.more;
                        if tx
                            .send(Ok(Fetched::Page {
                                page: Box::new(page),
                                profile,
                            }))
                            .await
                            .is_err()
                            || !more
                        {
                            return;
                        }
                        continue;
                    }
                    Err(e) => Err::<(), _>(e),
                };
                match fetched {
                    Err(SyncError::Gone) if after.is_some() => {
                        after = None;
                        if tx.send(Ok(Fetched::Restart)).await.is_err() {
                            return;
                        }
                    }
                    Err(SyncError::Gone) => {
                        let _ = tx
                            .send(Err(SyncError::Protocol("从头读取时仍返回 410".into())))
                            .await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Ok(()) => {}
                }
            }
        })
    };

    let mut totals = PageOutcome::default();
    let mut result = Ok(());
    // A hall is stopped when no change arrives for `stall_timeout`; every stored
    // batch that brought changes starts the clock again.
    let mut last_progress = tokio::time::Instant::now();
    // An item taken off the channel while filling a batch that must wait for the
    // batch to be stored first (a restart or an error).
    let mut held: Option<Result<Fetched, SyncError>> = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => {
                let deadline = last_progress + options.stall_timeout;
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(_) => {
                        result = Err(SyncError::Stalled {
                            secs: options.stall_timeout.as_secs(),
                        });
                        break;
                    }
                }
            }
        };
        let first = match item {
            Ok(Fetched::Page { page, profile }) => (page, profile),
            Ok(Fetched::Restart) => {
                report.restarts += 1;
                progress(&SyncEvent::Restarted {
                    hall_id: ep.hall_id.clone(),
                });
                sink.restart(&ep.hall_id).await?;
                continue;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        // Pages the fetcher already has ready join this one in a single transaction
        // (the applier is the bottleneck of a bulk sync; see docs/benchmarks.md).
        let mut batch_records = first.0.count;
        let mut more = first.0.more;
        let mut batch = vec![first];
        while more && batch_records < MAX_BATCH_CHANGES {
            match rx.try_recv() {
                Ok(Ok(Fetched::Page { page, profile })) => {
                    batch_records += page.count;
                    more = page.more;
                    batch.push((page, profile));
                }
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let pages = batch.len() as u64;
        let applied = sink.store(&ep.hall_id, FetchedBatch::new(batch)).await;
        let outcome = match applied {
            Ok(o) => o,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if batch_records > 0 {
            last_progress = tokio::time::Instant::now();
        }
        totals.add(&outcome);
        report.pages += pages;
        report.records += batch_records;
        report.outcome = totals;
        progress(&SyncEvent::Page {
            hall_id: ep.hall_id.clone(),
            pages: report.pages,
            records: report.records,
            totals,
            more,
        });
        if !more {
            break;
        }
    }
    drop(rx);
    // The fetcher may be waiting out a retry or a hall that does not answer:
    // stop it rather than wait for it. It holds nothing that must be saved.
    fetcher.abort();
    let _ = fetcher.await;
    report.retries = retries.load(std::sync::atomic::Ordering::Relaxed);
    result
}

/// Fetches a hall's profile once (used when a hall is added).
pub async fn fetch_profile(
    ep: &HallEndpoint,
    options: &SyncOptions,
) -> Result<HallProfile, SyncError> {
    let client = HallClient::new(ep, options)?;
    let p = client.profile(&|_| {}).await?;
    Ok(p)
}
