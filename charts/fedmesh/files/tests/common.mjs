// Shared by the `helm test` checks (each runs as `node --input-type=module -e <common + check>` in the fedmesh
// image): HTTPS requests to the kube-apiserver as the test pod's ServiceAccount, the way in-cluster clients do.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
const token = readFileSync(`${sa}/token`, 'utf8').trim();
const ca = readFileSync(`${sa}/ca.crt`, 'utf8');
const host = process.env.KUBERNETES_SERVICE_HOST;
const port = process.env.KUBERNETES_SERVICE_PORT || '443';
const namespace = process.env.POD_NAMESPACE;

/** Never rejects: a request that gets no answer resolves with status 0 and the error as text. */
function kube(method, path, body) {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        method,
        path,
        ca,
        servername: 'kubernetes.default.svc',
        timeout: 20000,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 20s`)));
    req.on('error', (err) => resolve({ status: 0, json: undefined, text: `no answer from the API server: ${err.message}` }));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}
