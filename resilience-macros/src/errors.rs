//! Every error a macro finds, combined into one `syn::Error`, so the compiler reports
//! each at its own span instead of stopping at the first.

/// The errors found so far.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn push_result(&mut self, result: syn::Result<()>) {
        if let Err(error) = result {
            self.push(error);
        }
    }

    /// `Err` with every error pushed, or `Ok` when there was none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }

    /// The errors pushed, if any.
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.0
    }
}
