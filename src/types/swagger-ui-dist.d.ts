declare module 'swagger-ui-dist' {
  /** Directory holding the Swagger UI assets. */
  export function getAbsoluteFSPath(): string;
  const api: { getAbsoluteFSPath(): string };
  export default api;
}
