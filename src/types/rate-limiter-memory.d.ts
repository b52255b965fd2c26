/** rate-limiter-flexible's memory limiter alone: its package entry also loads store adapters (a dynamic import among them) the Workers build cannot bundle. */
declare module 'rate-limiter-flexible/lib/RateLimiterMemory.js' {
  import { RateLimiterMemory } from 'rate-limiter-flexible';
  export default RateLimiterMemory;
}
