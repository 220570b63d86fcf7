//! The `/herald` command as Discord shows it: subcommands, typed options, choices.

use crate::hub::scope::KNOWN_SCOPES;
use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::CommandOptionType;
use serenity::model::channel::ChannelType;
use serenity::model::permissions::Permissions;

fn filter_option() -> CreateCommandOption {
    CreateCommandOption::new(
        CommandOptionType::String,
        "filter",
        "e.g. is:pr is:merged, or ref:main -author:bot (empty: none)",
    )
    .max_length(crate::route::filter::TEXT_MAX as u16)
}

/// The `/herald` command as registered with Discord.
pub fn command_definition() -> CreateCommand {
    let scope = |required: bool, with_default: bool| {
        let mut o = CreateCommandOption::new(CommandOptionType::String, "scope", "Which events")
            .required(required);
        for s in KNOWN_SCOPES {
            o = o.add_string_choice(s, s);
        }
        if with_default {
            o = o.add_string_choice("default (anything else)", "default");
        }
        o
    };
    let sub = |name: &str, desc: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, desc)
    };
    let template_action = |name: &str, desc: &str| {
        sub(name, desc)
            .add_sub_option(scope(true, true))
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::Integer,
                    "subscription",
                    "Only for this subscription (its id, see list)",
                )
                .required(false),
            )
    };
    CreateCommand::new("herald")
        .description("Hugging Face Hub notifications for this server")
        .default_member_permissions(Permissions::MANAGE_GUILD)
        .dm_permission(false)
        .add_option(
            sub(
                "subscribe",
                "Follow a repo, an owner's repos, or everything",
            )
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "target",
                    "owner/name, datasets/owner/name, a huggingface.co link, owner/* or *",
                )
                .required(true),
            )
            .add_sub_option(scope(false, false))
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::Channel,
                    "channel",
                    "Another channel of this server (default: this one)",
                )
                .channel_types(vec![ChannelType::Text, ChannelType::News]),
            )
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "threads",
                    "Where a discussion's events go",
                )
                .add_string_choice(
                    "a thread; openings, closes and merges also here (default)",
                    "thread+channel",
                )
                .add_string_choice("a thread only", "thread")
                .add_string_choice("no threads", "none"),
            )
            .add_sub_option(filter_option())
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "all",
                "Also what the noise defaults leave out (conversion pushes, PR refs)",
            ))
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "mode",
                    "instant (default), daily HH:MM or weekly DAY HH:MM: one digest per period",
                )
                .max_length(40),
            )
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "tz",
                    "The digest's time zone, e.g. Europe/Paris (default UTC)",
                )
                .max_length(64),
            ),
        )
        .add_option(
            sub("unsubscribe", "Stop a subscription").add_sub_option(
                CreateCommandOption::new(CommandOptionType::String, "subscription", "Which one")
                    .required(true)
                    .set_autocomplete(true),
            ),
        )
        .add_option(
            sub("filter", "Change a subscription's filter")
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "subscription",
                        "Which one",
                    )
                    .required(true)
                    .set_autocomplete(true),
                )
                .add_sub_option(filter_option()),
        )
        .add_option(
            sub(
                "why",
                "Why an event reached this server's channels, or did not",
            )
            .add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::String,
                    "event",
                    "An event id, or a Hub link to the repo, discussion or commit",
                )
                .required(true)
                .max_length(300),
            ),
        )
        .add_option(
            sub("list", "This channel's subscriptions")
                .add_sub_option(CreateCommandOption::new(
                    CommandOptionType::Boolean,
                    "all",
                    "The whole server's",
                ))
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::Integer, "page", "Which page")
                        .min_int_value(1),
                ),
        )
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::SubCommandGroup,
                "template",
                "How messages look",
            )
            .add_sub_option(template_action("show", "Show a template"))
            .add_sub_option(template_action(
                "preview",
                "Render a template with a real sample event",
            ))
            .add_sub_option(template_action("edit", "Edit a template"))
            .add_sub_option(template_action("reset", "Go back to the built-in template")),
        )
        .add_option(
            sub("setup", "This server's own Hub webhook").add_sub_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "rotate",
                "Replace the secret",
            )),
        )
        .add_option(sub("test", "Post a sample message here"))
        .add_option(
            sub(
                "connect",
                "Sign in with Hugging Face: herald manages this server's Hub webhook",
            )
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::String,
                "code",
                "The code the sign-in page showed",
            )),
        )
        .add_option(sub(
            "disconnect",
            "Unlink the Hugging Face account and delete its webhook",
        ))
        .add_option(sub("help", "What herald does and how to use it"))
}
