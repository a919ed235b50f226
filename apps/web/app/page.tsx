import { Demo } from './_demo/demo';

export default function HomePage() {
  return (
    <>
      <h1>What is in your picture?</h1>
      <p className="lead">
        Two image classifiers answer side by side, in your browser with TensorFlow.js: MobileNetV2,
        pretrained on ImageNet, and a CIFAR-10 model trained from scratch by imgcls.
      </p>
      <Demo />
    </>
  );
}
