//! Models that once had no owner (`gpt2`): the Hub moved them under organisations and now
//! sends their events with the new name, so a subscription must follow that name.

/// `(legacy name, name the Hub sends now)`, for the legacy models people still type.
const MOVED: &[(&str, &str)] = &[
    ("gpt2", "openai-community/gpt2"),
    ("gpt2-medium", "openai-community/gpt2-medium"),
    ("gpt2-large", "openai-community/gpt2-large"),
    ("gpt2-xl", "openai-community/gpt2-xl"),
    ("openai-gpt", "openai-community/openai-gpt"),
    ("distilgpt2", "distilbert/distilgpt2"),
    ("bert-base-uncased", "google-bert/bert-base-uncased"),
    ("bert-base-cased", "google-bert/bert-base-cased"),
    ("bert-large-uncased", "google-bert/bert-large-uncased"),
    ("bert-large-cased", "google-bert/bert-large-cased"),
    ("bert-base-chinese", "google-bert/bert-base-chinese"),
    (
        "bert-base-multilingual-cased",
        "google-bert/bert-base-multilingual-cased",
    ),
    (
        "bert-base-multilingual-uncased",
        "google-bert/bert-base-multilingual-uncased",
    ),
    (
        "distilbert-base-uncased",
        "distilbert/distilbert-base-uncased",
    ),
    ("distilbert-base-cased", "distilbert/distilbert-base-cased"),
    (
        "distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    ),
    (
        "distilbert-base-multilingual-cased",
        "distilbert/distilbert-base-multilingual-cased",
    ),
    ("distilroberta-base", "distilbert/distilroberta-base"),
    ("roberta-base", "FacebookAI/roberta-base"),
    ("roberta-large", "FacebookAI/roberta-large"),
    ("roberta-large-mnli", "FacebookAI/roberta-large-mnli"),
    ("xlm-roberta-base", "FacebookAI/xlm-roberta-base"),
    ("xlm-roberta-large", "FacebookAI/xlm-roberta-large"),
    ("t5-small", "google-t5/t5-small"),
    ("t5-base", "google-t5/t5-base"),
    ("t5-large", "google-t5/t5-large"),
    ("t5-3b", "google-t5/t5-3b"),
    ("t5-11b", "google-t5/t5-11b"),
    ("albert-base-v2", "albert/albert-base-v2"),
    ("albert-large-v2", "albert/albert-large-v2"),
    ("xlnet-base-cased", "xlnet/xlnet-base-cased"),
    ("xlnet-large-cased", "xlnet/xlnet-large-cased"),
    ("camembert-base", "almanach/camembert-base"),
    ("ctrl", "Salesforce/ctrl"),
];

/// The name the Hub sends now for legacy model `name`, if herald knows it.
pub fn current(name: &str) -> Option<&'static str> {
    MOVED
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(name))
        .map(|(_, now)| *now)
}
