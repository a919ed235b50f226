import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // sharp and other native modules must never reach a client bundle.
  serverExternalPackages: ['sharp'],
  // Cross-origin isolation (SharedArrayBuffer) is what threaded wasm needs; the worker keeps tfjs'
  // threads off for now (see classify.worker.ts), so this keeps the page ready for them.
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
          { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
        ],
      },
    ];
  },
};

export default nextConfig;
