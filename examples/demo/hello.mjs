// Connects once to a pod's hello-server and prints its answer; exits 1 when nothing answers within 2 s (a policy
// that drops the packets looks like that: no reset, no reply).
//   ip netns exec <pod namespace> node examples/demo/hello.mjs 10.1.0.1 8080
import { connect } from 'node:net';

const [host, port = '8080'] = process.argv.slice(2);
if (!host) {
  console.error('usage: node hello.mjs IP [PORT]');
  process.exit(2);
}
const socket = connect(Number(port), host);
const timer = setTimeout(() => {
  console.log(`no answer from ${host}:${port} within 2 s (dropped)`);
  process.exit(1);
}, 2000);
let answer = '';
socket.on('data', (d) => {
  answer += d;
});
socket.on('end', () => {
  clearTimeout(timer);
  process.stdout.write(answer);
  process.exit(0);
});
socket.on('error', (err) => {
  clearTimeout(timer);
  console.log(`${host}:${port}: ${err.message}`);
  process.exit(1);
});
