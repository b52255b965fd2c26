/** exifr's smallest build (JPEG, the TIFF segment): no dynamic import, so the Workers build bundles it. */
declare module 'exifr/dist/mini.esm.mjs' {
  export { orientation } from 'exifr';
}
