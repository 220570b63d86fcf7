//! Why a template does not compile, said as its author would fix it ("unclosed `{{#if}}` at
//! line 3") rather than as the parser's list of expected tokens.

use handlebars::TemplateError;

/// The template's blocks that do not pair up, or else where the parser stopped.
pub fn explain(source: &str, e: &TemplateError) -> String {
    if let Some(why) = unpaired(source) {
        return why;
    }
    match e.pos() {
        Some((line, col)) => format!("a syntax error at line {line}, column {col}"),
        None => "a syntax error".to_string(),
    }
}

/// Walks the block openings (`{{#name`) and closings (`{{/name`), in order.
fn unpaired(source: &str) -> Option<String> {
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut rest = source;
    let mut line = 1;
    while let Some(at) = rest.find("{{") {
        line += rest[..at].matches('\n').count();
        let after = &rest[at + 2..];
        // Comments and escaped tags open and close nothing.
        let skip = if after.starts_with("!--") {
            after.find("--}}").map(|e| e + 4)
        } else if after.starts_with('!') || rest[..at].ends_with('\\') {
            after.find("}}").map(|e| e + 2)
        } else {
            Some(0)
        };
        let Some(skip) = skip else { break };
        if skip > 0 {
            line += after[..skip].matches('\n').count();
            rest = &after[skip..];
            continue;
        }
        let tag = after.trim_start_matches(['~', '{']).trim_start();
        let name = |t: &str| {
            t.chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '}' | '~' | ')'))
                .collect::<String>()
        };
        if let Some(t) = tag.strip_prefix('#') {
            open.push((name(t.trim_start_matches(['>', '*'])), line));
        } else if let Some(t) = tag.strip_prefix('/') {
            let closing = name(t);
            match open.pop() {
                Some((opened, _)) if opened == closing => {}
                Some((opened, from)) => {
                    return Some(format!(
                        "`{{{{/{closing}}}}}` at line {line} closes `{{{{#{opened}}}}}` from line {from}"
                    ))
                }
                None => {
                    return Some(format!(
                        "`{{{{/{closing}}}}}` at line {line} closes no block"
                    ))
                }
            }
        }
        rest = &rest[at + 2..];
    }
    open.pop()
        .map(|(name, from)| format!("unclosed `{{{{#{name}}}}}` at line {from}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(source: &str) -> String {
        let e = handlebars::Template::compile(source).expect_err("does not compile");
        explain(source, &e)
    }

    #[test]
    fn blocks_that_do_not_pair_up_are_named_with_their_line() {
        assert_eq!(
            why("{{repo.name}}\n\n{{#if x}}\nopen\n"),
            "unclosed `{{#if}}` at line 3"
        );
        assert_eq!(
            why("{{#each refs}}\n{{#if x}}y{{/each}}\n{{/if}}"),
            "`{{/each}}` at line 2 closes `{{#if}}` from line 2"
        );
        assert_eq!(why("a\n{{/if}}"), "`{{/if}}` at line 2 closes no block");
        assert!(why("a\n{{repo.name").starts_with("a syntax error at line 2"));
        // What a comment or an escape says is not a block.
        assert_eq!(
            why("{{!-- {{#if x}} --}}\n{{!{{#each}}}}\n\\{{#if}}\n{{#with a}}\n"),
            "unclosed `{{#with}}` at line 4"
        );
    }
}
