/**
 * The library files the pages load, by their path under `/assets/`, and
 * where each lives in its npm package. One list for both platforms: Node
 * serves them from the packages (handlers/assets.routes.ts), the Workers
 * build copies them into its static assets (src/worker/static-assets.ts).
 * The site's own files are every file in src/web/assets.
 */
export const PACKAGE_ASSETS: Readonly<Record<string, string>> = {
  'echarts.min.js': 'echarts/dist/echarts.min.js',
  'leaflet.js': 'leaflet/dist/leaflet.js',
  'leaflet.css': 'leaflet/dist/leaflet.css',
  'images/marker-icon.png': 'leaflet/dist/images/marker-icon.png',
  'images/marker-icon-2x.png': 'leaflet/dist/images/marker-icon-2x.png',
  'images/marker-shadow.png': 'leaflet/dist/images/marker-shadow.png',
};
