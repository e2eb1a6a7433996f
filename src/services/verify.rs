//! Verification (invariant 1): every stored object is read back and hashed, and matched
//! against what the depositor supplied (manifest or upload checksum) or, where they
//! supplied nothing, against the SHA-256 the server computed on receipt.

use super::ServiceResult;
use super::events::{DepositEvent, record_event};
use crate::db::{self, files::ExpectedRow, now_ms};
use crate::model::checksum::Algorithm;
use crate::model::{Action, DepositState, FileStatus};
use crate::storage::StorageError;
use serde_json::json;
use std::collections::BTreeMap;

/// Problems listed in the report; beyond this only the count grows.
const MAX_LISTED: usize = 1000;
const PAGE: i64 = 500;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub problem: String,
}

fn source_words(source: &str) -> &'static str {
    if source == "manifest" {
        "in your manifest"
    } else {
        "with the upload"
    }
}

/// Compare one file's freshly computed checksums with what was expected of it.
fn judge(
    path: &str,
    receipt_sha256: &str,
    computed: &BTreeMap<String, String>,
    expected: &[&ExpectedRow],
) -> Option<String> {
    let mut problems = Vec::new();
    if expected.is_empty() && computed.get("sha256").map(String::as_str) != Some(receipt_sha256) {
        problems.push(format!(
            "the stored bytes have changed since they were received (SHA-256 on receipt {receipt_sha256}, now {})",
            computed.get("sha256").map(String::as_str).unwrap_or("?")
        ));
    }
    for e in expected {
        let got = computed
            .get(&e.algorithm)
            .map(String::as_str)
            .unwrap_or("?");
        if got != e.digest {
            problems.push(format!(
                "the {} checksum given {} is {}, but the archive's copy of '{path}' has {got}: the file was damaged or a different version was uploaded",
                e.algorithm.to_uppercase(),
                source_words(&e.source),
                e.digest
            ));
        }
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}
super::capability!(verify);

impl Service<'_> {
    /// The verification job for one deposit. Safe to run again: it does nothing unless
    /// the deposit is still waiting for verification.
    pub async fn run(&self, version_id: &str) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        let Some(v) = db::versions::get(&mut conn, version_id).await? else {
            return Ok(());
        };
        if v.state != DepositState::Submitted {
            return Ok(());
        }
        let mut problems = Vec::new();
        let mut problem_count = 0usize;
        let (mut files_checked, mut bytes_checked) = (0i64, 0i64);
        let mut after = String::new();
        // Every path, for the detector series (a deposit's worth, not the archive's).
        let mut paths = Vec::new();
        loop {
            let page = db::files::list(&mut conn, version_id, &after, PAGE).await?;
            let Some(last) = page.last() else { break };
            let expected =
                db::files::expected_between(&mut conn, version_id, &after, Some(&last.path))
                    .await?;
            for f in &page {
                let mine: Vec<&ExpectedRow> =
                    expected.iter().filter(|e| e.path == f.path).collect();
                let algs: Vec<Algorithm> = mine
                    .iter()
                    .filter_map(|e| e.algorithm.parse().ok())
                    .collect();
                let problem = match self.storage.hash_object(&f.sha256, &algs).await {
                    Ok((size, sums)) => {
                        let computed: BTreeMap<String, String> = sums
                            .into_iter()
                            .map(|c| (c.algorithm.as_str().to_owned(), c.hex))
                            .collect();
                        if size as i64 != f.size {
                            Some(format!(
                                "the archive holds {size} bytes of '{}' but {} were uploaded",
                                f.path, f.size
                            ))
                        } else {
                            judge(&f.path, &f.sha256, &computed, &mine)
                        }
                    }
                    Err(StorageError::Missing(_)) => Some(format!(
                        "the archive's stored copy of '{}' is missing",
                        f.path
                    )),
                    Err(e) => return Err(e.into()),
                };
                let now = now_ms();
                let status = if problem.is_some() {
                    FileStatus::Failed
                } else {
                    FileStatus::Verified
                };
                db::files::set_status(&mut conn, &f.id, status, problem.as_deref(), Some(now))
                    .await?;
                files_checked += 1;
                bytes_checked += f.size;
                paths.push(f.path.clone());
                if let Some(p) = problem {
                    problem_count += 1;
                    if problems.len() < MAX_LISTED {
                        problems.push(Problem {
                            path: f.path.clone(),
                            problem: p,
                        });
                    }
                }
            }
            after = last.path.clone();
        }
        for path in db::files::expected_without_file(&mut conn, version_id, 10_000).await? {
            problem_count += 1;
            if problems.len() < MAX_LISTED {
                problems.push(Problem {
                    problem: format!("'{path}' is listed in your manifest but was never uploaded"),
                    path,
                });
            }
        }
        // NeXus masters whose data files are missing or hold other frames than they
        // announce (from the headers read so far).
        let masters = super::extraction::build_report(
            &db::extractions::for_version(&mut conn, version_id).await?,
        )
        .masters;
        drop(conn);
        // Detector series with missing frames: warnings, or problems where the facility
        // says its series are always whole.
        let series = crate::extract::series::group(paths.iter().map(String::as_str));
        let incomplete = series
            .iter()
            .flat_map(|s| {
                super::extraction::series_problems(s)
                    .into_iter()
                    .map(|p| (s.template.clone(), p))
            })
            .chain(
                masters
                    .into_iter()
                    .flat_map(|m| m.problems.into_iter().map(move |p| (m.path.clone(), p))),
            );
        let mut warnings = Vec::new();
        for (path, problem) in incomplete {
            let p = Problem { path, problem };
            if self.config.extraction.incomplete_series_fail {
                problem_count += 1;
                if problems.len() < MAX_LISTED {
                    problems.push(p);
                }
            } else if warnings.len() < MAX_LISTED {
                warnings.push(p);
            }
        }
        let passed = problem_count == 0;
        let now = now_ms();
        let report = json!({
            "status": if passed { "passed" } else { "failed" },
            "checked_at": now,
            "files_checked": files_checked,
            "bytes_checked": bytes_checked,
            "problem_count": problem_count,
            "problems": problems,
            "warnings": warnings,
        });
        let action = if passed {
            Action::VerificationPassed
        } else {
            Action::VerificationFailed
        };
        let next = v.state.apply(action)?;
        let mut tx = self.db.begin_write().await?;
        if !db::versions::set_state(&mut tx, version_id, v.state, next, now).await? {
            return Ok(()); // someone acted on the deposit meanwhile; this result is moot
        }
        db::versions::set_verification(&mut tx, version_id, &report, now).await?;
        let reason = if passed {
            format!(
                "{}, {bytes_checked} bytes, all match",
                crate::model::words::count(files_checked as u64, "file", "files")
            )
        } else {
            format!(
                "{} found; see the verification report",
                crate::model::words::count(problem_count as u64, "problem", "problems")
            )
        };
        let event = DepositEvent {
            version_id,
            actor_id: None,
            kind: action.as_str(),
            states: Some((Some(v.state), next)),
            reason: Some(reason),
        };
        record_event(&mut tx, event, now).await?;
        tx.commit().await?;
        self.counters
            .count_verification(passed, bytes_checked as u64);
        Ok(())
    }
}

impl Service<'_> {
    /// A submitted deposit is verified by a job.
    pub(super) async fn follows(
        &self,
        tx: &mut db::Tx,
        t: &mut super::transitions::Transition<'_, '_>,
    ) -> ServiceResult<super::transitions::Reacted> {
        if t.change.action != Action::Submit {
            return Ok(super::transitions::Reacted::default());
        }
        let job = super::jobs::Job::Verify {
            version_id: t.version.id.clone(),
        };
        super::jobs::enqueue(tx, &job, t.now).await?;
        Ok(super::transitions::Reacted::enqueued(true))
    }
}
