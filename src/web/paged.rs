//! Response bodies written a page of catalogue rows at a time (linksets, manifests): a
//! dataset of 10^5 files costs the memory of one page, whatever its size.

use crate::services::ServiceResult;
use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use std::future::Future;

/// A body of `head`, then each row rendered (`render(row, is_first)`) page by page,
/// then `tail`. `fetch(after)` reads the page after the key `after`; `key` gives a row's
/// key; a page shorter than `page_size` is the last. `first` is the page read already
/// (to answer errors such as 404 before the body starts).
pub fn body<T, F, Fut>(
    head: String,
    first: Vec<T>,
    page_size: i64,
    fetch: F,
    key: fn(&T) -> String,
    render: impl Fn(&T, bool) -> String + Clone + Send + Sync + 'static,
    tail: &'static str,
) -> Body
where
    T: Send + 'static,
    F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ServiceResult<Vec<T>>> + Send,
{
    let pages = futures::stream::unfold(
        (Some(first), String::new(), true),
        move |(page, after, at_start)| {
            let (fetch, render) = (fetch.clone(), render.clone());
            async move {
                let page = match page {
                    Some(p) => p,
                    None if after.is_empty() => return None,
                    None => match fetch(after).await {
                        Ok(p) => p,
                        // Cut the body short: the client sees an incomplete answer.
                        Err(e) => {
                            let e = std::io::Error::other(e.to_string());
                            return Some((Err(e), (None, String::new(), false)));
                        }
                    },
                };
                let next = key(page.last()?);
                let mut chunk = String::new();
                for (i, row) in page.iter().enumerate() {
                    chunk.push_str(&render(row, at_start && i == 0));
                }
                let after = if (page.len() as i64) < page_size {
                    String::new()
                } else {
                    next
                };
                Some((Ok(Bytes::from(chunk)), (None, after, false)))
            }
        },
    );
    let once = |b: Bytes| futures::stream::once(async move { Ok::<_, std::io::Error>(b) });
    Body::from_stream(
        once(Bytes::from(head))
            .chain(pages)
            .chain(once(Bytes::from_static(tail.as_bytes()))),
    )
}
