import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

export const metadata: Metadata = {
  title: 'imgcls — image classification in your browser',
  description: 'Upload an image and see MobileNetV2 (ImageNet) and a CIFAR-10 model classify it.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
