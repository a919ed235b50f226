import { Marked } from 'marked';

const isRelative = (url: string) => !/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(url);

/**
 * Renders a Markdown file of the repository (a model card, the comparison) to HTML. Relative links and
 * pictures point next to the file, so they are rewritten under `baseUrl`, where the app serves them.
 * `headingOffset` moves every heading that many levels down (capped at h6). The Markdown is the
 * project's own, written by `imgcls`, not user input.
 */
export function renderMarkdown(markdown: string, baseUrl: string, headingOffset = 0): string {
  const marked = new Marked({
    gfm: true,
    walkTokens(token) {
      if ((token.type === 'image' || token.type === 'link') && isRelative(token.href))
        token.href = `${baseUrl}${token.href}`;
      // A file's own "# Title" sits below the page's headings: shift it to keep one h1 and a true outline.
      if (token.type === 'heading') token.depth = Math.min(6, token.depth + headingOffset);
    },
  });
  return marked.parse(markdown, { async: false }) as string;
}
