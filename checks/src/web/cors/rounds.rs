//! Which requests a `cors` item sends, in rounds: one GET per origin family, the preflight
//! for the foreign and `null` origins, the allowed origins; more only once a hole shows.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::net::http::page::{self, NoPage, Page};
use crate::web::cors_origins::{Attack, groups, reflects};

/// (origin, attack index or `None` for an allowed origin, method).
pub(super) type Job = (String, Option<usize>, Method);

/// Sends `jobs` concurrently (at most `PARALLEL` at once); answers in job order.
async fn send(
    fetcher: &page::Fetcher,
    url: &str,
    jobs: &[Job],
) -> Vec<Option<Result<Page, NoPage>>> {
    let gate = Arc::new(Semaphore::new(super::PARALLEL));
    let mut set = JoinSet::new();
    for (n, (origin, _, method)) in jobs.iter().enumerate() {
        let (fetcher, gate, url, origin, method) = (
            fetcher.clone(),
            gate.clone(),
            url.to_string(),
            origin.clone(),
            method.clone(),
        );
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut headers = vec![("origin", origin.as_str())];
            if method == Method::OPTIONS {
                headers.push(("access-control-request-method", "GET"));
            }
            (n, fetcher.method(method, &url, &headers, 4096).await)
        });
    }
    let mut pages: Vec<Option<Result<Page, NoPage>>> = vec![None; jobs.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((n, result)) = joined
            && let Some(slot) = pages.get_mut(n)
        {
            *slot = Some(result);
        }
    }
    pages
}

/// The answers of one item's rounds, in job order; `Err` when the very first request got no
/// answer (an unreachable target costs one request).
pub(super) async fn ask(
    fetcher: &page::Fetcher,
    url: &str,
    attacks: &[Attack],
    allowed_origins: &[String],
) -> Result<(Vec<Job>, Vec<Option<Result<Page, NoPage>>>), NoPage> {
    let groups = groups(attacks);
    // Round one: the first origin of every family (per base) with GET, the foreign and
    // `null` origins with OPTIONS too, and each allowed origin with both methods.
    let mut jobs: Vec<Job> = Vec::new();
    for g in &groups {
        if let Some(&i) = g.first() {
            jobs.push((attacks[i].origin.clone(), Some(i), Method::GET));
        }
    }
    for (i, a) in attacks.iter().enumerate().take(2) {
        jobs.push((a.origin.clone(), Some(i), Method::OPTIONS));
    }
    for o in allowed_origins {
        jobs.push((o.clone(), None, Method::GET));
        jobs.push((o.clone(), None, Method::OPTIONS));
    }
    // One request first: an unreachable target costs one request, not all of them.
    let Some((first_origin, _, _)) = jobs.first() else {
        return Ok((jobs, Vec::new()));
    };
    let first = fetcher
        .get(url, &[("origin", first_origin.as_str())], 4096)
        .await?;
    let mut pages = vec![Some(Ok(first))];
    pages.extend(send(fetcher, url, &jobs[1..]).await);
    // A family's first answer decides it, unless the allow-list has shown a hole (an
    // attacker origin let through, or different answers to different attackers): then
    // every variant is asked, a family stopping at its first origin let through.
    let answers = |method: Method, jobs: &[Job], pages: &[Option<Result<Page, NoPage>>]| {
        let mut seen: Vec<(usize, Option<String>)> = Vec::new();
        for ((_, attack, m), page) in jobs.iter().zip(pages) {
            if let (Some(i), Some(Ok(p))) = (attack, page)
                && *m == method
            {
                seen.push((*i, super::acao(p).map(str::to_string)));
            }
        }
        seen
    };
    let loose = |seen: &[(usize, Option<String>)]| {
        let values: BTreeSet<Option<&str>> = seen.iter().map(|(_, v)| v.as_deref()).collect();
        values.len() > 1
            || seen
                .iter()
                .any(|(i, v)| reflects(&attacks[*i], v.as_deref()))
    };
    if loose(&answers(Method::GET, &jobs, &pages)) {
        let mut walking: Vec<(usize, usize)> = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.len() > 1)
            .map(|(n, _)| (n, 1))
            .collect();
        let reflected_in = |seen: &[(usize, Option<String>)], g: &[usize]| {
            seen.iter()
                .any(|(i, v)| g.contains(i) && reflects(&attacks[*i], v.as_deref()))
        };
        // Bounded: each round moves every walking family one origin on (at most 6).
        while !walking.is_empty() {
            let seen = answers(Method::GET, &jobs, &pages);
            walking
                .retain(|(n, next)| *next < groups[*n].len() && !reflected_in(&seen, &groups[*n]));
            let round: Vec<Job> = walking
                .iter()
                .map(|(n, next)| {
                    let i = groups[*n][*next];
                    (attacks[i].origin.clone(), Some(i), Method::GET)
                })
                .collect();
            pages.extend(send(fetcher, url, &round).await);
            jobs.extend(round);
            walking.iter_mut().for_each(|(_, next)| *next += 1);
        }
    }
    // The preflight: foreign and `null` decide it, unless they showed a hole too.
    if loose(&answers(Method::OPTIONS, &jobs, &pages)) {
        let round: Vec<Job> = groups
            .iter()
            .skip(2)
            .filter_map(|g| g.first())
            .map(|&i| (attacks[i].origin.clone(), Some(i), Method::OPTIONS))
            .collect();
        pages.extend(send(fetcher, url, &round).await);
        jobs.extend(round);
    }
    Ok((jobs, pages))
}
