// A pod's server for the demo's packets: answers every TCP connection with one line saying which address it came
// from (across the overlay it is the remote pod's own IP: no NAT), then closes it.
//   ip netns exec <pod namespace> node examples/demo/hello-server.mjs 8080 east/web-0
import { createServer } from 'node:net';

const [port = '8080', name = 'this pod'] = process.argv.slice(2);
createServer((socket) => {
  socket.on('error', () => {});
  socket.end(`${name} answered; it sees you as ${socket.remoteAddress}\n`);
}).listen(Number(port), '0.0.0.0', () => console.log(`listening on :${port}`));
