declare module 'swagger-ui-dist/absolute-path.js' {
  /** Directory holding the Swagger UI assets. */
  const getAbsoluteFSPath: () => string;
  export default getAbsoluteFSPath;
}
