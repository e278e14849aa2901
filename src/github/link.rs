//! The `rel="next"` URL of a `Link` header: GitHub's pagination is followed, never rebuilt.

/// `<https://…?page=2>; rel="next", <…>; rel="last"` → the next URL.
pub fn next_url(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim();
            param == "rel=\"next\"" || param == "rel=next"
        });
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_other_relations() {
        let link = "<https://api.example/user/7/repos?page=2>; rel=\"next\", \
                    <https://api.example/user/7/repos?page=4>; rel=\"last\"";
        assert_eq!(
            next_url(link).as_deref(),
            Some("https://api.example/user/7/repos?page=2")
        );
        let last_page = "<https://api.example/x?page=1>; rel=\"first\", <https://api.example/x?page=3>; rel=\"prev\"";
        assert_eq!(next_url(last_page), None);
        assert_eq!(next_url("garbage"), None);
    }
}
