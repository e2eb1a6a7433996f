//! Search at a size where the newest datasets no longer hold every match: common words
//! are read by walking the newest entries, rare ones through the full-text index, and
//! both give the same answers, newest first.

use crate::common::TestApp;
use arca::db::search::{PROBE, Query, find, put};
use arca::metadata::search::{SearchEntry, query_words};

fn entry(body: &str, author: &str) -> SearchEntry {
    SearchEntry {
        year: Some(2026),
        facility: Some("ESRF".into()),
        beamline: Some("ID23-1".into()),
        pdb_ids: vec![],
        authors: vec![author.to_lowercase()],
        body: arca::metadata::search::words(body).join(" "),
    }
}

fn id(i: i64) -> String {
    format!("0SEARCH{i:019}")
}

#[tokio::test]
async fn common_and_rare_words_are_found_newest_first_past_the_newest_datasets() {
    let app = TestApp::new().await;
    let backend = app.services.db.backend;
    let n = PROBE + 200;
    {
        let mut tx = app.services.db.begin_write().await.unwrap();
        let owner: String = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        for i in 0..n {
            // The entries stand for released versions (the index refers to them).
            sqlx::query("INSERT INTO datasets (id, owner_id, created_at) VALUES ($1, $2, 0)")
                .bind(id(i))
                .bind(&owner)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO dataset_versions (id, dataset_id, version_number, state, metadata, facility, created_at, updated_at)
                 VALUES ($1, $1, 1, 'released', '{}', '{}', 0, 0)",
            )
            .bind(id(i))
            .execute(&mut *tx)
            .await
            .unwrap();
            // Every dataset has "lysozyme"; one in 300 also "thaumatin" (rare among the
            // newest); only the oldest has "ribosome", written with a diacritic.
            let mut body = String::from("Hen egg-white lysozyme, native SAD");
            if i % 300 == 0 {
                body.push_str(" thaumatin");
            }
            if i == 0 {
                body.push_str(" ribosôme");
            }
            let author = if i == 1 {
                "Röntgen, Wilhelm"
            } else {
                "Franklin, Rosalind"
            };
            put(
                &mut tx,
                backend,
                &id(i),
                &id(i),
                1_000 + i,
                &entry(&body, author),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let mut conn = app.services.db.conn().await.unwrap();
    let search = |words: &str, author: &str, after: Option<(i64, String)>| Query {
        words: query_words(words),
        author: query_words(author),
        after,
        ..Query::default()
    };

    // A word every dataset has: newest first, counted among the newest.
    let f = find(&mut conn, backend, &search("lysozyme", "", None), 20, 0)
        .await
        .unwrap();
    assert_eq!(f.hits[0].0, id(n - 1));
    assert_eq!(f.hits.len(), 20);
    assert!(f.more);
    assert_eq!((f.total, f.total_exact), (PROBE, false), "at least {PROBE}");
    // The next page by key continues where this one stopped.
    let last = f.hits.last().unwrap().clone();
    let g = find(
        &mut conn,
        backend,
        &search("lysozyme", "", Some((last.1, last.0))),
        20,
        0,
    )
    .await
    .unwrap();
    assert_eq!(g.hits[0].0, id(n - 21));

    // Rare among the newest: through the index, all of them, exactly counted.
    let f = find(&mut conn, backend, &search("native thaum", "", None), 20, 0)
        .await
        .unwrap();
    let want: Vec<String> = (0..n).rev().filter(|i| i % 300 == 0).map(id).collect();
    let got: Vec<String> = f.hits.iter().map(|h| h.0.clone()).collect();
    assert_eq!(got, want);
    assert_eq!((f.total, f.total_exact), (want.len() as i64, true));

    // Only the oldest dataset has it, far past the newest: still found, diacritics or not.
    for q in ["ribosome", "RIBOSÔME", "lysozyme ribo"] {
        let f = find(&mut conn, backend, &search(q, "", None), 20, 0)
            .await
            .unwrap();
        assert_eq!(
            f.hits.iter().map(|h| h.0.clone()).collect::<Vec<_>>(),
            [id(0)],
            "{q}"
        );
        assert_eq!((f.total, f.total_exact), (1, true), "{q}");
    }
    // Author names the same way: a common name walks, a rare one uses the index.
    let f = find(
        &mut conn,
        backend,
        &search("", "rosalind frank", None),
        20,
        0,
    )
    .await
    .unwrap();
    assert_eq!(f.hits[0].0, id(n - 1));
    assert!(!f.total_exact);
    let f = find(
        &mut conn,
        backend,
        &search("lysozyme", "rontgen", None),
        20,
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        f.hits.iter().map(|h| h.0.clone()).collect::<Vec<_>>(),
        [id(1)]
    );
    // Words that no dataset has together.
    let f = find(
        &mut conn,
        backend,
        &search("ribosome thaumatin", "rontgen", None),
        20,
        0,
    )
    .await
    .unwrap();
    assert!(f.hits.is_empty() && f.total == 0 && f.total_exact);
}
