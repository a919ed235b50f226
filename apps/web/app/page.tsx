import { Demo } from './demo';

export default function HomePage() {
  return (
    <main>
      <h1>imgcls</h1>
      <p className="lead">
        Two image classifiers side by side, running in your browser with TensorFlow.js.
      </p>
      <Demo />
    </main>
  );
}
