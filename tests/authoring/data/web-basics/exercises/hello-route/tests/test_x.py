def test_home_says_hello(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "Hello"
