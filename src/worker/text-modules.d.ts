/** Files wrangler bundles as text (see the `rules` in wrangler.toml). */
declare module '*.jsonl' {
  const text: string;
  export default text;
}
