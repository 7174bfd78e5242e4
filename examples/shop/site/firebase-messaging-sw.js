// Service worker for Firebase Cloud Messaging (push notifications).
//
// The browser only registers it when a visitor clicks "Allow notifications"
// on the home page, which needs the Firebase scripts, which the gateway only
// lets load after consent. The catalogue knows this file as Firebase's
// worker: the gateway refuses to install or update it before consent, and
// the banner unregisters it when the visitor takes Firebase back.
importScripts('https://www.gstatic.com/firebasejs/8.10.1/firebase-app.js');
importScripts('https://www.gstatic.com/firebasejs/8.10.1/firebase-messaging.js');

firebase.initializeApp({
  apiKey: 'AIzaSyExample-NotARealKey-Greenpaw00',
  authDomain: 'greenpaw-example.firebaseapp.com',
  projectId: 'greenpaw-example',
  storageBucket: 'greenpaw-example.appspot.com',
  messagingSenderId: '123456789012',
  appId: '1:123456789012:web:0a1b2c3d4e5f60718293a4'
});

const messaging = firebase.messaging();

messaging.onBackgroundMessage(function (payload) {
  const notification = payload.notification || {};
  self.registration.showNotification(notification.title || 'Greenpaw Organics', {
    body: notification.body || '',
    icon: '/img/logo.svg'
  });
});
