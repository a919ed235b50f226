import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'imgcls — image classification in your browser',
  description:
    'Drop, pick, paste or capture an image and see MobileNetV2 (ImageNet) and a CIFAR-10 model classify it.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#content">
          Skip to content
        </a>
        <header className="site-header">
          <nav aria-label="Main">
            <Link href="/" className="brand">
              imgcls
            </Link>
            <Link href="/">Demo</Link>
            <Link href="/models">Models</Link>
          </nav>
        </header>
        <main id="content">{children}</main>
      </body>
    </html>
  );
}
