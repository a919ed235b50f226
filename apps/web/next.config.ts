import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  reactStrictMode: true,
  // sharp and other native modules must never reach a client bundle.
  serverExternalPackages: ['sharp'],
};

export default nextConfig;
