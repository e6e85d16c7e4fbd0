// Promise.withResolvers for Node 20 (js-ipfs 0.66 and helia call it). Loaded with
// NODE_OPTIONS=--require in child processes and by test/helpers/setup.ts in tests.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
