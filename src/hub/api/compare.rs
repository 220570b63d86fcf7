//! The files a push changed: `compare/{old}..{new}?raw=true`, one line per file in git's
//! raw diff format with the new size in front (hf-hub's parser is the reference):
//! `T 2305\t:100644 100644 97e7…... 0000…... M\tpath[<tab or space>new path]`.

use super::client::{ApiError, HubApi};
use super::RepoPath;
use tokio::time::Instant;

/// Bytes of the list read at most; a larger change is summarised from what was read.
const CAP: usize = 2 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct FileChange {
    /// `A`dded, `C`opied, `D`eleted, `M`odified, `R`enamed, `T`ype changed, …
    pub status: char,
    /// Size after the change, in bytes.
    pub size: u64,
    /// The path after the change (the new one of a rename).
    pub path: String,
}

/// One raw line, or `None` when it is not one.
pub fn parse_line(line: &str) -> Option<FileChange> {
    let (head, rest) = line.split_once('\t')?;
    let size = head.split_whitespace().nth(1)?.parse().ok()?;
    let (meta, paths) = rest.split_once('\t')?;
    let status = meta.split_whitespace().last()?.chars().next()?;
    let path = match status {
        // Renames and copies name both paths, split by a tab, or else a space.
        'R' | 'C' => match paths.split_once('\t') {
            Some((_, new)) => new,
            None => paths.split_once(' ').map_or(paths, |(_, new)| new),
        },
        _ => paths,
    };
    (!path.is_empty()).then(|| FileChange {
        status,
        size,
        path: path.to_string(),
    })
}

/// The files changed between `old` and `new`; `true` when the list was longer than
/// herald reads (the files given are then the first ones).
pub async fn files(
    api: &HubApi,
    repo: RepoPath<'_>,
    old: &str,
    new: &str,
    deadline: Instant,
) -> Result<(Vec<FileChange>, bool), ApiError> {
    let range = format!("{old}..{new}");
    let mut url = api.url(&repo.segments(&["compare", &range]));
    url.query_pairs_mut().append_pair("raw", "true");
    let answer = api.get(url, deadline, CAP).await?;
    let text = String::from_utf8_lossy(&answer.body);
    let mut lines: Vec<&str> = text.lines().collect();
    if answer.cut {
        // The last line read may be cut in half.
        lines.pop();
    }
    Ok((
        lines.into_iter().filter_map(parse_line).collect(),
        answer.cut,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_lines_of_hf_hub_parse() {
        let text =
            include_str!("../../../tests/fixtures/hf-api/compare-raw-diff-lines-hf-hub-tests.txt");
        let parsed: Vec<FileChange> = text.lines().filter_map(parse_line).collect();
        assert_eq!(parsed.len(), 6);
        assert_eq!(parsed[0].status, 'M');
        assert_eq!(parsed[0].size, 2305);
        assert_eq!(parsed[0].path, "apps/scan_orchestrator/src/dispatcher.rs");
        assert_eq!(parsed[1].status, 'C');
        assert_eq!(parsed[1].path, "apps/scan_orchestrator/src/blob");
        assert_eq!(parsed[2].path, "apps/shared/src/scanner/file3.rs");
        assert_eq!(
            parsed[3].path,
            "AI_popai/エイミ Eimi-ブルーアーカイブ Blue Archive (230270)/259889/eimi_(blue_archive).safetensors"
        );
        assert_eq!(parsed[3].size, 37861440);
        assert_eq!(parsed[4].status, 'D');
        assert_eq!(parsed[5].path, "エイミ/new_file.rs");
        assert_eq!(parse_line("garbage"), None);
        assert_eq!(parse_line("T x\t:1 2 a b M\tp"), None);
    }
}
