export default function HomePage() {
  return (
    <main>
      <h1>imgcls</h1>
      <p>Image classification on TensorFlow.js, in your browser.</p>
    </main>
  );
}
