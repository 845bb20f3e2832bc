//! HTML templates from templates/, embedded so the binary works from any
//! directory. Auto-escaping is on for every `.html` template.

use minijinja::Environment;
use std::sync::OnceLock;

macro_rules! embed {
    ($env:ident: $($name:literal),* $(,)?) => {
        $($env
            .add_template($name, include_str!(concat!("../../../templates/", $name)))
            .expect(concat!("template ", $name, " parses"));)*
    };
}

pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        embed!(env:
            "bill.html",
            "shipping_note.html",
            "admin/base.html",
            "admin/login.html",
            "admin/orders.html",
            "admin/order.html",
            "admin/chat.html",
            "admin/products.html",
            "admin/books.html",
            "admin/settings.html",
            "admin/undelivered.html",
            "admin/_undelivered.html",
            "admin/claims.html",
            "admin/claim.html",
            "admin/new_order.html",
            "admin/carriers.html",
            "admin/dashboard.html",
            "admin/customers.html",
            "admin/tokens.html",
            "admin/carrier.html",
            "admin/_remittances.html",
        );
        use super::words;
        env.add_filter("fulfilment_words", |s: String| words::fulfilment(&s));
        env.add_filter("payment_words", |s: String| words::payment(&s));
        env.add_filter("method_words", |s: String| words::method(&s));
        env.add_filter("payment_row_words", |s: String| words::payment_row(&s));
        env.add_filter("channel_words", |s: String| words::channel(&s));
        env.add_filter("event_words", |s: String| words::event(&s));
        env
    })
}

/// Renders a template; a failure is logged and shown as a plain message.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, super::error::ApiError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            tracing::error!(template = name, error = %e, "template failed");
            super::error::ApiError::Internal
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses_and_escapes() {
        let env = super::env();
        for name in [
            "bill.html",
            "shipping_note.html",
            "admin/login.html",
            "admin/orders.html",
        ] {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
        let html = super::render(
            "admin/login.html",
            minijinja::context! { error => "<script>x</script>" },
        )
        .unwrap();
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>x"));
    }
}
