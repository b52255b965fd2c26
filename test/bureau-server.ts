import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the bureaus' own servers on 127.0.0.1: records every signed
 * POST the service makes (assignments and notices) and answers with the
 * status `answer` gives for the path (the bureau's URL ends in its code) and
 * the body it was sent.
 */

export interface ReceivedPost<B> {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: B;
}

export async function bureauServer<B>(answer: (path: string, body: B) => number): Promise<{ url: string; received: Array<ReceivedPost<B>>; server: Server }> {
  const received: Array<ReceivedPost<B>> = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as B;
      received.push({ path: req.url ?? '', headers: req.headers, raw, body });
      res.writeHead(answer(req.url ?? '', body)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}
