//! A push's changed files, summarised the way people read a Hub repo: weights, the card,
//! config, tokenizer, a dataset's data, a Space's app code, and the rest.

use super::compare::FileChange;
use serde::{Deserialize, Serialize};

/// Paths listed per category at most; the rest are counted.
pub const PATHS_LISTED: usize = 10;

/// The files of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// `weights`, `card`, `config`, `tokenizer`, `data`, `app` or `other`.
    pub category: String,
    /// How a reader says it: "weights", "model card", "app code"…
    pub label: String,
    pub count: u64,
    /// Bytes of the files as they are now (deleted ones count nothing).
    pub bytes: u64,
    pub paths: Vec<String>,
}

/// What a push changed, by category, in the order above.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Files {
    pub groups: Vec<Group>,
    /// The list was longer than herald reads: the counts are at least these.
    #[serde(default)]
    pub cut: bool,
}

const WEIGHTS: &[&str] = &[
    "safetensors",
    "bin",
    "gguf",
    "ggml",
    "pt",
    "pth",
    "onnx",
    "h5",
    "msgpack",
    "ckpt",
    "tflite",
    "mlmodel",
    "keras",
    "pb",
    "ot",
    "nemo",
];
const DATA: &[&str] = &[
    "parquet", "csv", "tsv", "json", "jsonl", "ndjson", "arrow", "txt", "xml", "zip", "tar", "gz",
    "tgz", "zst", "bz2", "xz", "7z", "npy", "npz", "h5", "hdf5", "wav", "mp3", "flac", "jpg",
    "jpeg", "png", "webp", "mp4", "lance", "sqlite", "db",
];
const APP: &[&str] = &[
    "py", "js", "mjs", "ts", "tsx", "jsx", "html", "css", "ipynb", "sh", "toml", "svelte", "vue",
];
const TOKENIZER: &[&str] = &[
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
    "added_tokens.json",
    "spiece.model",
    "sentencepiece.bpe.model",
];
const APP_FILES: &[&str] = &[
    "requirements.txt",
    "dockerfile",
    "package.json",
    "packages.txt",
];

/// The category of `path` in a repo of `kind`.
pub fn category(kind: &str, path: &str) -> &'static str {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let top = !path.contains('/');
    if top && file == "readme.md" {
        "card"
    } else if TOKENIZER.contains(&file.as_str()) {
        "tokenizer"
    } else if kind == "space" && (APP.contains(&ext) || APP_FILES.contains(&file.as_str())) {
        "app"
    } else if kind == "dataset" && (DATA.contains(&ext) || path.starts_with("data/")) {
        "data"
    } else if kind != "dataset"
        && (WEIGHTS.contains(&ext) || file.ends_with(".safetensors.index.json"))
    {
        "weights"
    } else if (ext == "json" && file.contains("config")) || matches!(ext, "yaml" | "yml") {
        "config"
    } else {
        "other"
    }
}

/// The categories, in the order a message lists them.
pub const ORDER: [&str; 7] = [
    "weights",
    "card",
    "config",
    "tokenizer",
    "data",
    "app",
    "other",
];

fn label(kind: &str, category: &str) -> String {
    match (category, kind) {
        ("card", "model") => "model card",
        ("card", "dataset") => "dataset card",
        ("card", _) => "README",
        ("data", _) => "data files",
        ("app", _) => "app code",
        ("other", _) => "other files",
        (c, _) => c,
    }
    .to_string()
}

pub fn summarise(kind: &str, changes: &[FileChange], cut: bool) -> Files {
    let mut groups: Vec<Group> = Vec::new();
    for c in changes {
        let cat = category(kind, &c.path);
        let i = match groups.iter().position(|g| g.category == cat) {
            Some(i) => i,
            None => {
                groups.push(Group {
                    category: cat.to_string(),
                    label: label(kind, cat),
                    count: 0,
                    bytes: 0,
                    paths: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.count += 1;
        if c.status != 'D' {
            g.bytes = g.bytes.saturating_add(c.size);
        }
        if g.paths.len() < PATHS_LISTED {
            g.paths.push(super::kept(&c.path));
        }
    }
    groups.sort_by_key(|g| ORDER.iter().position(|o| *o == g.category));
    Files { groups, cut }
}

/// Sizes as the Hub shows them: decimal units, one decimal below 10.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

impl Group {
    /// "weights (2 files, 4.2 GB)", "model card".
    pub fn phrase(&self) -> String {
        let files = match self.count {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        };
        let big = matches!(self.category.as_str(), "weights" | "data" | "other");
        match (self.count, big && self.bytes > 0) {
            (1, false) if !big => self.label.clone(),
            (_, true) => format!("{} ({files}, {})", self.label, human(self.bytes)),
            _ => format!("{} ({files})", self.label),
        }
    }
}

impl Files {
    /// One short line: "weights (2 files, 4.2 GB), model card".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self.groups.iter().map(Group::phrase).collect();
        let mut line = parts.join(", ");
        if self.cut {
            line.push_str(", and more");
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, size: u64) -> FileChange {
        FileChange {
            status: 'M',
            size,
            path: path.into(),
        }
    }

    #[test]
    fn files_fall_into_the_categories_people_care_about() {
        assert_eq!(
            category("model", "model-00001-of-00002.safetensors"),
            "weights"
        );
        assert_eq!(category("model", "README.md"), "card");
        assert_eq!(category("model", "docs/README.md"), "other");
        assert_eq!(category("model", "config.json"), "config");
        assert_eq!(category("model", "tokenizer_config.json"), "tokenizer");
        assert_eq!(category("dataset", "data/train-00000.parquet"), "data");
        assert_eq!(category("dataset", "train.bin"), "other");
        assert_eq!(category("space", "app.py"), "app");
        assert_eq!(category("space", "requirements.txt"), "app");
        assert_eq!(category("model", "app.py"), "other");
    }

    #[test]
    fn a_push_reads_as_one_line() {
        let changes = [
            change("model-00001-of-00002.safetensors", 4_000_000_000),
            change("model-00002-of-00002.safetensors", 200_000_000),
            change("README.md", 5_000),
        ];
        let f = summarise("model", &changes, false);
        assert_eq!(f.summary(), "weights (2 files, 4.2 GB), model card");
        assert_eq!(human(999), "999 B");
        assert_eq!(human(548_000_000), "548 MB");
    }

    #[test]
    fn paths_are_listed_up_to_the_cap_and_counted_beyond() {
        let changes: Vec<FileChange> = (0..25)
            .map(|i| change(&format!("data/{i}.csv"), 1))
            .collect();
        let f = summarise("dataset", &changes, true);
        assert_eq!(f.groups[0].count, 25);
        assert_eq!(f.groups[0].paths.len(), PATHS_LISTED);
        assert_eq!(f.summary(), "data files (25 files, 25 B), and more");
    }
}
